//! Audio ports: 8 kHz mono, moved in 20 ms frames of 160 linear samples, so the same media
//! loop runs on ALSA ([`alsa::AlsaPort`]) or on the simulated card ([`sim::SimAudioPort`]).
//! Reads block until the device clock has produced the next frame: the device paces the loop.

pub mod alsa;
pub mod sim;

/// Samples per second (ITU-T G.711 narrowband).
pub const SAMPLE_RATE: u32 = 8000;
/// Samples in one 20 ms frame (= one ALSA period).
pub const FRAME_SAMPLES: usize = 160;
/// One 20 ms frame of 16-bit linear samples.
pub type Frame = [i16; FRAME_SAMPLES];

/// Counters kept by every audio port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AudioCounters {
    pub frames_in: u64,
    pub frames_out: u64,
    /// Capture overruns detected (and recovered).
    pub capture_xruns: u64,
    /// Playback underruns detected (and recovered).
    pub playback_xruns: u64,
    /// Frames that could not be delivered (transport full, malformed datagram).
    pub dropped: u64,
}

/// Why an audio operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("ALSA {op} on {device}: {source}")]
    Alsa {
        op: &'static str,
        device: String,
        source: ::alsa::Error,
    },
    #[error("{device}: {what}")]
    Config { device: String, what: String },
    #[error("audio port is stopped")]
    Stopped,
    #[error("no audio frame within {0:?}")]
    Timeout(std::time::Duration),
    #[error("audio transport: {0}")]
    Io(#[from] std::io::Error),
}

/// A port's audio, both directions.
pub trait AudioPort: Send {
    /// Starts capture and playback (per call).
    fn start(&mut self) -> Result<(), AudioError>;
    /// Stops both directions, dropping queued audio.
    fn stop(&mut self) -> Result<(), AudioError>;
    /// Waits for and returns the next 20 ms of captured audio (from the line).
    fn read_frame(&mut self, frame: &mut Frame) -> Result<(), AudioError>;
    /// Queues 20 ms of audio for playback (to the line).
    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError>;
    fn counters(&self) -> AudioCounters;
}
