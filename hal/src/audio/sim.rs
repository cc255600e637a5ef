//! The gateway's audio port for a simulated card: one Unix datagram socket per port, one
//! datagram per 20 ms frame (320 bytes, S16_LE). The simulator sends a frame every 20 ms on
//! its own clock, so reads here are paced by the simulated card like ALSA reads are by the
//! sound card. Socket names: `<dir>/port<N>.card` (simulator) and `<dir>/port<N>.gw` (here).

use super::{AudioCounters, AudioError, AudioPort, FRAME_SAMPLES, Frame};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bytes in one frame datagram.
pub const FRAME_BYTES: usize = FRAME_SAMPLES * 2;

/// The simulator's socket for `port` under `dir`.
pub fn card_socket(dir: &Path, port: u8) -> PathBuf {
    dir.join(format!("port{port}.card"))
}

/// The gateway's socket for `port` under `dir`.
pub fn gateway_socket(dir: &Path, port: u8) -> PathBuf {
    dir.join(format!("port{port}.gw"))
}

/// Encodes a frame as a datagram.
pub fn frame_to_bytes(f: &Frame) -> [u8; FRAME_BYTES] {
    let mut b = [0u8; FRAME_BYTES];
    for (c, s) in b.chunks_exact_mut(2).zip(f.iter()) {
        c.copy_from_slice(&s.to_le_bytes());
    }
    b
}

/// Decodes a datagram; `None` unless it is exactly one frame.
pub fn frame_from_bytes(b: &[u8]) -> Option<Frame> {
    if b.len() != FRAME_BYTES {
        return None;
    }
    let mut f = [0i16; FRAME_SAMPLES];
    for (s, c) in f.iter_mut().zip(b.chunks_exact(2)) {
        *s = i16::from_le_bytes([c[0], c[1]]);
    }
    Some(f)
}

/// Gateway side of a simulated port's audio.
pub struct SimAudioPort {
    sock: UnixDatagram,
    path: PathBuf,
    peer: PathBuf,
    running: bool,
    timeout: Duration,
    counters: AudioCounters,
}

impl SimAudioPort {
    /// Binds the gateway socket for `port` in the simulator's audio directory.
    pub fn open(dir: &Path, port: u8) -> Result<Self, AudioError> {
        let path = gateway_socket(dir, port);
        let _ = std::fs::remove_file(&path);
        let sock = UnixDatagram::bind(&path)?;
        let timeout = Duration::from_millis(500);
        sock.set_read_timeout(Some(timeout))?;
        sock.set_nonblocking(false)?;
        Ok(SimAudioPort {
            sock,
            path,
            peer: card_socket(dir, port),
            running: false,
            timeout,
            counters: AudioCounters::default(),
        })
    }

    /// Drops every frame already queued (stale audio from before `start`).
    fn drain(&mut self) -> Result<(), AudioError> {
        self.sock.set_nonblocking(true)?;
        let mut b = [0u8; FRAME_BYTES + 1];
        while self.sock.recv(&mut b).is_ok() {}
        self.sock.set_nonblocking(false)?;
        Ok(())
    }
}

impl Drop for SimAudioPort {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl AudioPort for SimAudioPort {
    fn start(&mut self) -> Result<(), AudioError> {
        self.drain()?;
        self.running = true;
        Ok(())
    }

    fn stop(&mut self) -> Result<(), AudioError> {
        self.running = false;
        Ok(())
    }

    fn read_frame(&mut self, frame: &mut Frame) -> Result<(), AudioError> {
        if !self.running {
            return Err(AudioError::Stopped);
        }
        let mut b = [0u8; FRAME_BYTES + 1];
        loop {
            match self.sock.recv(&mut b) {
                Ok(n) => match frame_from_bytes(&b[..n]) {
                    Some(f) => {
                        *frame = f;
                        self.counters.frames_in += 1;
                        return Ok(());
                    }
                    None => self.counters.dropped += 1,
                },
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return Err(AudioError::Timeout(self.timeout));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError> {
        if !self.running {
            return Err(AudioError::Stopped);
        }
        match self.sock.send_to(&frame_to_bytes(frame), &self.peer) {
            Ok(_) => self.counters.frames_out += 1,
            // The simulator is gone or its queue is full: audio is lossy, like an xrun.
            Err(_) => self.counters.playback_xruns += 1,
        }
        Ok(())
    }

    fn counters(&self) -> AudioCounters {
        self.counters
    }
}
