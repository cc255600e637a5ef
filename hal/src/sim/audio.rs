//! The simulated card's audio: per port, a Unix datagram socket that sends the gateway one
//! 20 ms frame every 20 ms on the simulator's own clock (what the "line" says: silence, a raw
//! file, or any [`FrameSource`] such as a tone generator from the media crate) and receives
//! what the gateway plays (recorded, captured as caller-ID audio while on-hook transmission
//! is on, and handed to any [`FrameSink`] such as a tone detector).

use crate::audio::sim::{
    FRAME_BYTES, card_socket, frame_from_bytes, frame_to_bytes, gateway_socket,
};
use crate::audio::{FRAME_SAMPLES, Frame};
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

/// Produces the audio the simulated phone or line sends towards the gateway.
pub trait FrameSource: Send {
    /// Fills the next 20 ms; returns `false` when the source has finished (frame unused).
    fn fill(&mut self, out: &mut Frame) -> bool;
}

/// Consumes the audio the gateway sends to the simulated phone or line.
pub trait FrameSink: Send {
    fn frame(&mut self, f: &Frame);
}

/// A raw 16-bit little-endian 8 kHz mono file, played once.
pub struct RawFile {
    samples: Vec<i16>,
    pos: usize,
}

impl RawFile {
    pub fn open(path: &Path) -> io::Result<Self> {
        let b = std::fs::read(path)?;
        Ok(Self::from_bytes(&b))
    }

    /// From S16_LE bytes (a trailing odd byte is ignored).
    pub fn from_bytes(b: &[u8]) -> Self {
        RawFile {
            samples: b
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect(),
            pos: 0,
        }
    }
}

impl FrameSource for RawFile {
    fn fill(&mut self, out: &mut Frame) -> bool {
        if self.pos >= self.samples.len() {
            return false;
        }
        let end = (self.pos + FRAME_SAMPLES).min(self.samples.len());
        let n = end - self.pos;
        out[..n].copy_from_slice(&self.samples[self.pos..end]);
        out[n..].fill(0);
        self.pos = end;
        true
    }
}

/// Most audio kept per port in [`PortAudio::recorded`]: 60 s.
pub const MAX_RECORDED: usize = 60 * 8000;

/// Audio state of one simulated port.
#[derive(Default)]
pub struct PortAudio {
    pub source: Option<Box<dyn FrameSource>>,
    pub sinks: Vec<Box<dyn FrameSink>>,
    /// What the gateway sent, most recent last (bounded by [`MAX_RECORDED`]).
    pub recorded: Vec<i16>,
    pub frames_sent: u64,
    pub frames_received: u64,
    pub bad_datagrams: u64,
}

impl std::fmt::Debug for PortAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortAudio")
            .field("playing", &self.source.is_some())
            .field("sinks", &self.sinks.len())
            .field("recorded", &self.recorded.len())
            .field("frames_sent", &self.frames_sent)
            .field("frames_received", &self.frames_received)
            .finish()
    }
}

/// The sockets of all ports.
pub struct AudioSockets {
    socks: Vec<UnixDatagram>,
    dir: std::path::PathBuf,
}

impl AudioSockets {
    pub fn bind(dir: &Path, ports: usize) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut socks = Vec::new();
        for p in 0..ports {
            let path = card_socket(dir, p as u8);
            let _ = std::fs::remove_file(&path);
            let s = UnixDatagram::bind(&path)?;
            s.set_nonblocking(true)?;
            socks.push(s);
        }
        Ok(AudioSockets {
            socks,
            dir: dir.to_path_buf(),
        })
    }

    /// Sends port `p`'s next frame to the gateway (dropped if no gateway listens).
    pub fn send(&self, p: usize, f: &Frame) {
        let _ = self.socks[p].send_to(&frame_to_bytes(f), gateway_socket(&self.dir, p as u8));
    }

    /// Receives every frame the gateway sent on port `p` since the last call.
    pub fn receive(&self, p: usize, mut on_frame: impl FnMut(Option<Frame>)) {
        let mut b = [0u8; FRAME_BYTES + 1];
        while let Ok(n) = self.socks[p].recv(&mut b) {
            on_frame(frame_from_bytes(&b[..n]));
        }
    }
}

impl Drop for AudioSockets {
    fn drop(&mut self) {
        for p in 0..self.socks.len() {
            let _ = std::fs::remove_file(card_socket(&self.dir, p as u8));
        }
    }
}
