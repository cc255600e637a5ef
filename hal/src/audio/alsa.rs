//! ALSA audio port on the `alsa` crate: one capture and one playback PCM per port,
//! 8000 Hz mono, 160-frame (20 ms) periods, 2–4 periods of buffer, xrun recovery with
//! counters. Companded buses (A-law, µ-law) exchange their 8-bit codes with ALSA; turning
//! them into linear samples is G.711, which the media crate owns and plugs in as a
//! [`Companding`].

use super::{AudioCounters, AudioError, AudioPort, FRAME_SAMPLES, Frame, SAMPLE_RATE};
use ::alsa::pcm::{Access, Format, HwParams, PCM, State};
use ::alsa::{Direction, ValueOr};

/// Sample format on the card's PCM bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// 16-bit linear, little-endian.
    S16Le,
    /// G.711 A-law, 8 bits.
    ALaw,
    /// G.711 µ-law, 8 bits.
    MuLaw,
}

impl SampleFormat {
    fn alsa(self) -> Format {
        match self {
            SampleFormat::S16Le => Format::S16LE,
            SampleFormat::ALaw => Format::ALaw,
            SampleFormat::MuLaw => Format::MuLaw,
        }
    }
}

/// G.711 expansion/compression, provided by the media crate for companded buses.
pub trait Companding: Send {
    fn expand(&self, code: u8) -> i16;
    fn compress(&self, sample: i16) -> u8;
}

/// What to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlsaConfig {
    pub capture_device: String,
    pub playback_device: String,
    pub format: SampleFormat,
    /// Periods in the buffer, 2..=4.
    pub periods: u32,
}

/// One direction of an ALSA port.
pub struct AlsaPcm {
    pcm: PCM,
    device: String,
    dir: Direction,
    format: SampleFormat,
    running: bool,
    /// Period and buffer size actually granted, in frames.
    pub period: usize,
    pub buffer: usize,
}

fn alsa_err<'a>(
    op: &'static str,
    device: &'a str,
) -> impl FnOnce(::alsa::Error) -> AudioError + 'a {
    move |source| AudioError::Alsa {
        op,
        device: device.to_string(),
        source,
    }
}

impl AlsaPcm {
    /// Opens and configures one direction.
    pub fn open(
        device: &str,
        dir: Direction,
        format: SampleFormat,
        periods: u32,
    ) -> Result<Self, AudioError> {
        if !(2..=4).contains(&periods) {
            return Err(AudioError::Config {
                device: device.into(),
                what: format!("{periods} periods; 2 to 4 are supported"),
            });
        }
        let pcm = PCM::new(device, dir, false).map_err(alsa_err("open", device))?;
        let (period, buffer) = {
            let hw = HwParams::any(&pcm).map_err(alsa_err("hw_params_any", device))?;
            hw.set_access(Access::RWInterleaved)
                .map_err(alsa_err("set_access", device))?;
            hw.set_format(format.alsa())
                .map_err(alsa_err("set_format", device))?;
            hw.set_channels(1)
                .map_err(alsa_err("set_channels", device))?;
            hw.set_rate(SAMPLE_RATE, ValueOr::Nearest)
                .map_err(alsa_err("set_rate", device))?;
            hw.set_period_size(FRAME_SAMPLES as ::alsa::pcm::Frames, ValueOr::Nearest)
                .map_err(alsa_err("set_period_size", device))?;
            hw.set_periods(periods, ValueOr::Nearest)
                .map_err(alsa_err("set_periods", device))?;
            pcm.hw_params(&hw).map_err(alsa_err("hw_params", device))?;
            let hw = pcm
                .hw_params_current()
                .map_err(alsa_err("hw_params_current", device))?;
            let rate = hw.get_rate().map_err(alsa_err("get_rate", device))?;
            if rate != SAMPLE_RATE {
                return Err(AudioError::Config {
                    device: device.into(),
                    what: format!("rate {rate} Hz granted, {SAMPLE_RATE} needed"),
                });
            }
            (
                hw.get_period_size()
                    .map_err(alsa_err("get_period_size", device))? as usize,
                hw.get_buffer_size()
                    .map_err(alsa_err("get_buffer_size", device))? as usize,
            )
        };
        Ok(AlsaPcm {
            pcm,
            device: device.to_string(),
            dir,
            format,
            running: false,
            period,
            buffer,
        })
    }

    /// Prepares (and for capture starts) the stream.
    pub fn start(&mut self) -> Result<(), AudioError> {
        if self.pcm.state() != State::Prepared {
            self.pcm
                .prepare()
                .map_err(alsa_err("prepare", &self.device))?;
        }
        if self.dir == Direction::Capture {
            self.pcm.start().map_err(alsa_err("start", &self.device))?;
        }
        self.running = true;
        Ok(())
    }

    /// Stops at once, dropping pending frames.
    pub fn stop(&mut self) -> Result<(), AudioError> {
        self.running = false;
        self.pcm.drop().map_err(alsa_err("drop", &self.device))
    }

    /// Recovers from an xrun (EPIPE) or a suspend (ESTRPIPE); returns whether it was one.
    fn recover(&self, e: ::alsa::Error, xruns: &mut u64) -> Result<(), AudioError> {
        if is_xrun(e.errno()) {
            *xruns += 1;
            self.pcm
                .try_recover(e, true)
                .map_err(alsa_err("recover", &self.device))?;
            if self.dir == Direction::Capture {
                // A recovered capture stream is prepared again; restart it.
                let _ = self.pcm.start();
            }
            Ok(())
        } else {
            Err(AudioError::Alsa {
                op: "transfer",
                device: self.device.clone(),
                source: e,
            })
        }
    }

    /// Reads exactly one period of raw 8-bit codes (companded formats).
    pub fn read_codes(&mut self, out: &mut [u8], xruns: &mut u64) -> Result<(), AudioError> {
        self.guard(false)?;
        let mut done = 0;
        while done < out.len() {
            let io = self.pcm.io_bytes();
            match io.readi(&mut out[done..]) {
                Ok(n) => done += n,
                Err(e) => self.recover(e, xruns)?,
            }
        }
        Ok(())
    }

    /// Writes exactly one period of raw 8-bit codes (companded formats).
    pub fn write_codes(&mut self, data: &[u8], xruns: &mut u64) -> Result<(), AudioError> {
        self.guard(false)?;
        let mut done = 0;
        while done < data.len() {
            let io = self.pcm.io_bytes();
            match io.writei(&data[done..]) {
                Ok(n) => done += n,
                Err(e) => self.recover(e, xruns)?,
            }
        }
        Ok(())
    }

    /// Reads exactly one frame of linear samples (S16_LE bus).
    pub fn read_linear(&mut self, out: &mut Frame, xruns: &mut u64) -> Result<(), AudioError> {
        self.guard(true)?;
        let mut done = 0;
        while done < out.len() {
            let io = self.pcm.io_i16().map_err(alsa_err("io", &self.device))?;
            match io.readi(&mut out[done..]) {
                Ok(n) => done += n,
                Err(e) => self.recover(e, xruns)?,
            }
        }
        Ok(())
    }

    /// Writes exactly one frame of linear samples (S16_LE bus).
    pub fn write_linear(&mut self, data: &Frame, xruns: &mut u64) -> Result<(), AudioError> {
        self.guard(true)?;
        let mut done = 0;
        while done < data.len() {
            let io = self.pcm.io_i16().map_err(alsa_err("io", &self.device))?;
            match io.writei(&data[done..]) {
                Ok(n) => done += n,
                Err(e) => self.recover(e, xruns)?,
            }
        }
        Ok(())
    }

    /// Checks the stream runs and whether its format is (`linear`) or is not 16-bit linear.
    fn guard(&self, linear: bool) -> Result<(), AudioError> {
        if !self.running {
            return Err(AudioError::Stopped);
        }
        if (self.format == SampleFormat::S16Le) != linear {
            return Err(AudioError::Config {
                device: self.device.clone(),
                what: format!("{:?} stream used with the wrong sample width", self.format),
            });
        }
        Ok(())
    }
}

/// Whether a transfer error is an xrun that `snd_pcm_recover` handles: EPIPE (overrun on
/// capture, underrun on playback) or ESTRPIPE (stream suspended). ALSA returns errors as
/// negative errno; both signs are accepted.
pub fn is_xrun(errno: i32) -> bool {
    let e = errno.abs();
    e == nix::errno::Errno::EPIPE as i32 || e == nix::errno::Errno::ESTRPIPE as i32
}

/// A line-card port's audio through ALSA.
pub struct AlsaPort {
    pub capture: AlsaPcm,
    pub playback: AlsaPcm,
    companding: Option<Box<dyn Companding>>,
    counters: AudioCounters,
}

impl AlsaPort {
    /// Opens both directions. Companded formats need `companding` for the linear frame API.
    pub fn open(
        cfg: &AlsaConfig,
        companding: Option<Box<dyn Companding>>,
    ) -> Result<Self, AudioError> {
        if cfg.format != SampleFormat::S16Le && companding.is_none() {
            return Err(AudioError::Config {
                device: cfg.capture_device.clone(),
                what: format!(
                    "{:?} bus needs a G.711 companding implementation",
                    cfg.format
                ),
            });
        }
        Ok(AlsaPort {
            capture: AlsaPcm::open(
                &cfg.capture_device,
                Direction::Capture,
                cfg.format,
                cfg.periods,
            )?,
            playback: AlsaPcm::open(
                &cfg.playback_device,
                Direction::Playback,
                cfg.format,
                cfg.periods,
            )?,
            companding,
            counters: AudioCounters::default(),
        })
    }
}

impl AudioPort for AlsaPort {
    fn start(&mut self) -> Result<(), AudioError> {
        self.capture.start()?;
        self.playback.start()
    }

    fn stop(&mut self) -> Result<(), AudioError> {
        let a = self.capture.stop();
        let b = self.playback.stop();
        a.and(b)
    }

    fn read_frame(&mut self, frame: &mut Frame) -> Result<(), AudioError> {
        match &self.companding {
            None => self
                .capture
                .read_linear(frame, &mut self.counters.capture_xruns)?,
            Some(c) => {
                let mut codes = [0u8; FRAME_SAMPLES];
                self.capture
                    .read_codes(&mut codes, &mut self.counters.capture_xruns)?;
                for (s, &b) in frame.iter_mut().zip(codes.iter()) {
                    *s = c.expand(b);
                }
            }
        }
        self.counters.frames_in += 1;
        Ok(())
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError> {
        match &self.companding {
            None => self
                .playback
                .write_linear(frame, &mut self.counters.playback_xruns)?,
            Some(c) => {
                let mut codes = [0u8; FRAME_SAMPLES];
                for (b, &s) in codes.iter_mut().zip(frame.iter()) {
                    *b = c.compress(s);
                }
                self.playback
                    .write_codes(&codes, &mut self.counters.playback_xruns)?;
            }
        }
        self.counters.frames_out += 1;
        Ok(())
    }

    fn counters(&self) -> AudioCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::is_xrun;

    #[test]
    fn xrun_errors_are_recoverable_others_are_not() {
        assert!(is_xrun(-32) && is_xrun(32)); // EPIPE
        assert!(is_xrun(-86)); // ESTRPIPE
        assert!(!is_xrun(-5) && !is_xrun(-19) && !is_xrun(0)); // EIO, ENODEV
    }
}
