//! Board profiles (`board/<name>.toml`): the serial link to the line card, the audio path
//! per port, the port kinds, LEDs and the hardware watchdog of one supported box. Loaded
//! and validated like the configuration file, with the same file/line/field errors.

use super::error::{ConfigError, Diagnostic};
use super::locate::Locator;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tipring_hal::audio::alsa::{AlsaConfig, SampleFormat};
use tipring_hal::driver::SerialSettings;
use tipring_hal::model::{MAX_PORTS, PortKind};

/// One box.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardProfile {
    /// Must equal the file stem.
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub serial: Serial,
    pub audio: Audio,
    pub ports: Vec<BoardPort>,
    #[serde(default)]
    pub leds: Vec<Led>,
    #[serde(default)]
    pub watchdog: Option<Watchdog>,
}

/// The line card's serial control link (hal PROTOCOL.md §1: 8N1, no flow control).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serial {
    pub device: PathBuf,
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// Line settings in the usual shorthand; only `8N1` is accepted.
    #[serde(default = "default_framing")]
    pub framing: String,
}

fn default_baud() -> u32 {
    115_200
}

fn default_framing() -> String {
    "8N1".to_string()
}

/// How port audio reaches the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum Audio {
    /// The simulated card's Unix datagram sockets (`<socket_dir>/port<N>.card|.gw`).
    Sim { socket_dir: PathBuf },
    /// ALSA PCMs; each port names its capture and playback device.
    Alsa {
        /// Bus sample format.
        format: BusFormat,
        /// Periods of 20 ms in the ALSA buffer, 2..=4.
        #[serde(default = "default_periods")]
        periods: u32,
    },
}

fn default_periods() -> u32 {
    2
}

/// Sample format on the card's PCM bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusFormat {
    S16le,
    Alaw,
    Ulaw,
}

impl From<BusFormat> for SampleFormat {
    fn from(f: BusFormat) -> Self {
        match f {
            BusFormat::S16le => SampleFormat::S16Le,
            BusFormat::Alaw => SampleFormat::ALaw,
            BusFormat::Ulaw => SampleFormat::MuLaw,
        }
    }
}

#[derive(Deserialize)]
#[serde(remote = "PortKind", rename_all = "lowercase")]
enum PortKindDef {
    Fxs,
    Fxo,
}

/// One port of the box.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardPort {
    pub index: u8,
    #[serde(with = "PortKindDef")]
    pub kind: PortKind,
    /// ALSA capture PCM (e.g. `plughw:CARD=tipring,DEV=0`); ALSA boards only.
    #[serde(default)]
    pub capture: Option<String>,
    /// ALSA playback PCM; ALSA boards only.
    #[serde(default)]
    pub playback: Option<String>,
    /// LED (by name in `leds`) lit while the port is off-hook / seized.
    #[serde(default)]
    pub led: Option<String>,
}

/// A sysfs LED.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Led {
    pub name: String,
    /// Directory under `/sys/class/leds`.
    pub path: PathBuf,
}

/// The hardware watchdog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watchdog {
    pub device: PathBuf,
    pub timeout_s: u32,
}

impl BoardProfile {
    /// Reads and validates `<dir>/<name>.toml`.
    pub fn load(dir: &Path, name: &str) -> Result<BoardProfile, ConfigError> {
        let path = dir.join(format!("{name}.toml"));
        let shown = path.display().to_string();
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(ConfigError::whole_file(
                &shown,
                format!("\"{name}\" is not a board profile name"),
            ));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::whole_file(&shown, format!("cannot read: {e}")))?;
        let board = Self::parse(&shown, &text)?;
        if board.name != name {
            let loc = Locator::new(&text);
            return Err(ConfigError {
                diagnostics: vec![Diagnostic {
                    file: shown,
                    line: loc.line("name"),
                    field: "name".into(),
                    message: format!("\"{}\" differs from the file name \"{name}\"", board.name),
                }],
            });
        }
        Ok(board)
    }

    /// Parses and validates a profile's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<BoardProfile, ConfigError> {
        let board: BoardProfile = super::deserialize(file, text)?;
        let loc = Locator::new(text);
        let mut errs = Vec::new();
        let mut err = |field: String, message: String| {
            errs.push(Diagnostic {
                file: file.to_string(),
                line: loc.line(&field),
                field,
                message,
            })
        };
        if board.serial.framing != "8N1" {
            err(
                "serial.framing".into(),
                format!("\"{}\" is not one of 8N1", board.serial.framing),
            );
        }
        if !matches!(
            board.serial.baud,
            9600 | 19_200 | 38_400 | 57_600 | 115_200 | 230_400 | 460_800 | 921_600
        ) {
            err(
                "serial.baud".into(),
                format!(
                    "{} is not one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
                    board.serial.baud
                ),
            );
        }
        if let Audio::Alsa { periods, .. } = board.audio
            && !(2..=4).contains(&periods)
        {
            err("audio.periods".into(), format!("{periods} is not in 2..=4"));
        }
        if board.ports.is_empty() {
            err("ports".into(), "a board has at least one port".into());
        }
        if board.ports.len() > MAX_PORTS {
            err("ports".into(), format!("more than {MAX_PORTS} ports"));
        }
        for (i, p) in board.ports.iter().enumerate() {
            if board.ports[..i].iter().any(|q| q.index == p.index) {
                err(
                    format!("ports[{i}].index"),
                    format!("port {} is listed twice", p.index),
                );
            }
            if usize::from(p.index) >= MAX_PORTS {
                err(
                    format!("ports[{i}].index"),
                    format!("{} is not in 0..{MAX_PORTS}", p.index),
                );
            }
            match board.audio {
                Audio::Alsa { .. } => {
                    if p.capture.is_none() {
                        err(
                            format!("ports[{i}].capture"),
                            "required with ALSA audio".into(),
                        );
                    }
                    if p.playback.is_none() {
                        err(
                            format!("ports[{i}].playback"),
                            "required with ALSA audio".into(),
                        );
                    }
                }
                Audio::Sim { .. } => {
                    if p.capture.is_some() || p.playback.is_some() {
                        err(
                            format!("ports[{i}]"),
                            "capture/playback apply to ALSA audio only".into(),
                        );
                    }
                }
            }
            if let Some(led) = &p.led
                && !board.leds.iter().any(|l| &l.name == led)
            {
                let names: Vec<&str> = board.leds.iter().map(|l| l.name.as_str()).collect();
                err(
                    format!("ports[{i}].led"),
                    format!("\"{led}\" is not one of {}", names.join(", ")),
                );
            }
        }
        for (i, l) in board.leds.iter().enumerate() {
            if !l.path.starts_with("/sys/class/leds/") {
                err(
                    format!("leds[{i}].path"),
                    format!("{} is not under /sys/class/leds/", l.path.display()),
                );
            }
        }
        if let Some(w) = &board.watchdog
            && !(1..=600).contains(&w.timeout_s)
        {
            err(
                "watchdog.timeout_s".into(),
                format!("{} is not in 1..=600", w.timeout_s),
            );
        }
        if errs.is_empty() {
            Ok(board)
        } else {
            Err(ConfigError { diagnostics: errs })
        }
    }

    /// The board's port with `index`.
    pub fn port(&self, index: u8) -> Option<&BoardPort> {
        self.ports.iter().find(|p| p.index == index)
    }

    /// Serial settings for the hal driver.
    pub fn serial_settings(&self) -> SerialSettings {
        let mut s = SerialSettings::new(&self.serial.device);
        s.baud = self.serial.baud;
        s
    }

    /// ALSA settings for a port, on ALSA boards.
    pub fn alsa_config(&self, index: u8) -> Option<AlsaConfig> {
        let Audio::Alsa { format, periods } = self.audio else {
            return None;
        };
        let p = self.port(index)?;
        Some(AlsaConfig {
            capture_device: p.capture.clone()?,
            playback_device: p.playback.clone()?,
            format: format.into(),
            periods,
        })
    }

    /// The watchdog timeout.
    pub fn watchdog_timeout(&self) -> Option<Duration> {
        self.watchdog
            .as_ref()
            .map(|w| Duration::from_secs(w.timeout_s.into()))
    }
}
