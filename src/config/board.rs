//! Board profiles (`board/<name>.toml`): the serial link to the line card, the audio path
//! per port, the port kinds, LEDs and the hardware watchdog of one supported box. Loaded
//! and validated like the configuration file, with the same file/line/field errors.

use super::error::{ConfigError, Diagnostic};
use super::locate::Locator;
use super::schema::PortKindDef;
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
#[serde(deny_unknown_fields)]
pub struct Audio {
    pub kind: AudioKind,
    /// Sim: directory of the simulator's sockets (`<socket_dir>/port<N>.card|.gw`).
    #[serde(default)]
    pub socket_dir: Option<PathBuf>,
    /// ALSA: the bus sample format.
    #[serde(default)]
    pub format: Option<BusFormat>,
    /// ALSA: periods of 20 ms in the buffer, 2..=4.
    #[serde(default = "default_periods")]
    pub periods: u32,
}

/// Where port audio comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioKind {
    /// The simulated card's Unix datagram sockets.
    Sim,
    /// ALSA PCMs; each port names its capture and playback device.
    Alsa,
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

impl std::fmt::Display for BusFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BusFormat::S16le => "s16le",
            BusFormat::Alaw => "alaw",
            BusFormat::Ulaw => "ulaw",
        })
    }
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
        match board.audio.kind {
            AudioKind::Alsa => {
                if !(2..=4).contains(&board.audio.periods) {
                    err(
                        "audio.periods".into(),
                        format!("{} is not in 2..=4", board.audio.periods),
                    );
                }
                if board.audio.format.is_none() {
                    err(
                        "audio.format".into(),
                        "ALSA audio needs format = one of s16le, alaw, ulaw".into(),
                    );
                }
                if board.audio.socket_dir.is_some() {
                    err(
                        "audio.socket_dir".into(),
                        "applies to sim audio only".into(),
                    );
                }
            }
            AudioKind::Sim => {
                if board.audio.socket_dir.is_none() {
                    err(
                        "audio.socket_dir".into(),
                        "sim audio needs socket_dir".into(),
                    );
                }
                if board.audio.format.is_some() {
                    err("audio.format".into(), "applies to ALSA audio only".into());
                }
            }
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
            match board.audio.kind {
                AudioKind::Alsa => {
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
                AudioKind::Sim => {
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
        if self.audio.kind != AudioKind::Alsa {
            return None;
        }
        let p = self.port(index)?;
        Some(AlsaConfig {
            capture_device: p.capture.clone()?,
            playback_device: p.playback.clone()?,
            format: self.audio.format?.into(),
            periods: self.audio.periods,
        })
    }

    /// The simulator's socket directory, on sim boards.
    pub fn sim_socket_dir(&self) -> Option<&Path> {
        match self.audio.kind {
            AudioKind::Sim => self.audio.socket_dir.as_deref(),
            AudioKind::Alsa => None,
        }
    }

    /// A sim profile moved to another simulator directory, laid out as
    /// `tipring_hal::sim::SimConfig::new(dir)` does (`card.tty`, `audio/`), for running
    /// several simulated gateways side by side (the demo, tests). `None` on ALSA boards.
    pub fn with_sim_dir(&self, dir: &Path) -> Option<BoardProfile> {
        if self.audio.kind != AudioKind::Sim {
            return None;
        }
        let mut b = self.clone();
        b.serial.device = dir.join("card.tty");
        b.audio.socket_dir = Some(dir.join("audio"));
        Some(b)
    }

    /// The watchdog timeout.
    pub fn watchdog_timeout(&self) -> Option<Duration> {
        self.watchdog
            .as_ref()
            .map(|w| Duration::from_secs(w.timeout_s.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("board")
    }

    #[test]
    fn shipped_profiles_load() {
        let sim = BoardProfile::load(&dir(), "sim").unwrap();
        assert_eq!(sim.ports.len(), 4);
        assert_eq!(sim.port(2).unwrap().kind, PortKind::Fxo);
        assert_eq!(
            sim.serial_settings().path,
            PathBuf::from("/run/tipring/sim/card.tty")
        );
        assert!(sim.alsa_config(0).is_none());
        let moved = sim.with_sim_dir(Path::new("/tmp/gw2")).unwrap();
        let hal = tipring_hal::sim::SimConfig::new(vec![PortKind::Fxs], Path::new("/tmp/gw2"));
        assert_eq!(moved.serial.device, hal.link_path);
        assert_eq!(moved.sim_socket_dir(), hal.audio_dir.as_deref());

        let tr4 = BoardProfile::load(&dir(), "tr4-arm64").unwrap();
        let s = tr4.serial_settings();
        assert_eq!((s.path.to_str(), s.baud), (Some("/dev/ttyS1"), 115_200));
        assert_eq!(s.parity, serialport::Parity::None);
        let a = tr4.alsa_config(3).unwrap();
        assert_eq!(a.capture_device, "hw:CARD=tipring,DEV=3");
        assert_eq!(a.format, SampleFormat::ALaw);
        assert_eq!(tr4.watchdog_timeout(), Some(Duration::from_secs(30)));
        assert!(tr4.with_sim_dir(Path::new("/tmp")).is_none());
    }

    fn errors(text: &str) -> Vec<String> {
        BoardProfile::parse("b.toml", text)
            .unwrap_err()
            .diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    const BASE: &str = "name = \"x\"\n[serial]\ndevice = \"/dev/ttyS1\"\n[audio]\nkind = \"alsa\"\nformat = \"alaw\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\ncapture = \"hw:0\"\nplayback = \"hw:0\"\n";

    #[test]
    fn base_profile_is_valid() {
        BoardProfile::parse("b.toml", BASE).unwrap();
    }

    #[test]
    fn errors_name_file_line_field() {
        assert_eq!(
            errors(&BASE.replace("format = \"alaw\"", "format = \"gsm\"")),
            ["b.toml:6: audio.format: \"gsm\" is not one of s16le, alaw, ulaw"]
        );
        assert_eq!(
            errors(&BASE.replace(
                "device = \"/dev/ttyS1\"",
                "device = \"/dev/ttyS1\"\nframing = \"7E1\""
            )),
            ["b.toml:4: serial.framing: \"7E1\" is not one of 8N1"]
        );
        assert_eq!(
            errors(&BASE.replace("playback = \"hw:0\"\n", "")),
            ["b.toml:7: ports[0].playback: required with ALSA audio"]
        );
        assert_eq!(
            errors(&format!("{BASE}led = \"ring\"\n")),
            ["b.toml:12: ports[0].led: \"ring\" is not one of "]
        );
        assert_eq!(
            errors(&format!(
                "{BASE}[[ports]]\nindex = 0\nkind = \"fxo\"\ncapture = \"a\"\nplayback = \"b\"\n"
            )),
            ["b.toml:13: ports[1].index: port 0 is listed twice"]
        );
        assert_eq!(
            errors(&BASE.replace("kind = \"alsa\"", "kind = \"oss\"")),
            ["b.toml:5: audio.kind: \"oss\" is not one of sim, alsa"]
        );
    }

    #[test]
    fn file_name_must_match() {
        let tmp = std::env::temp_dir().join(format!("tipring-board-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(tmp.join("y.toml"), BASE).unwrap();
        let e = BoardProfile::load(&tmp, "y").unwrap_err();
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(
            e.to_string()
                .ends_with("y.toml:1: name: \"x\" differs from the file name \"y\""),
            "{e}"
        );
        assert!(BoardProfile::load(&dir(), "../board/sim").is_err());
    }
}
