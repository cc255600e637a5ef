//! What the runtime keeps per port besides its [`Port`] machine: the RTP socket (bound at start on
//! an even port drawn at random from the configured range, so that one port's number says
//! nothing of another's or of the next start's; its address given to the SIP side's SDP),
//! the audio device, and the media bridge while one runs. Each bridge's reports are read
//! by a thread of their own that blocks on them and passes them on, tagged with the port
//! and the bridge, through one bounded queue that wakes the runtime.

use super::sip_side::MediaParams;
use super::{GatewayError, PortError};
use crate::bridge::random;
use crate::bridge::{Bridge, BridgeConfig, Control, Report, StatsSnapshot};
use crate::companding::G711;
use crate::config::{AudioKind, BusFormat, Codec, Loaded, PortAudio, ToneCountry};
use crate::ops::capture::RtpTap;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use tipring_hal::audio::AudioPort;
use tipring_hal::audio::alsa::{AlsaConfig, AlsaPort};
use tipring_hal::audio::sim::SimAudioPort;
use tipring_hal::model::PortKind;
use tipring_media::callerid::FskStandard;
use tipring_media::g711::Law;
use tipring_media::jitter::JitterConfig;
use tipring_media::tone::CountryProfile;

/// Where a port's audio comes from.
enum AudioSource {
    /// The simulated card's socket directory.
    Sim(PathBuf),
    /// ALSA, with the bus's companding law (none for linear S16_LE).
    Alsa(AlsaConfig, Option<Law>),
}

/// Depth of the queue of every bridge's reports to the runtime.
pub const REPORT_QUEUE: usize = 256;

/// A report of one port's bridge, on its way to the runtime.
#[derive(Debug)]
pub struct BridgeReport {
    pub port: u8,
    /// Which of the port's bridges (a report of one since stopped is dropped).
    bridge: u64,
    pub report: Report,
}

/// The sending end of the report queue.
pub type ReportTx = tokio::sync::mpsc::Sender<BridgeReport>;

/// One port's media at run time: its RTP socket, its audio, its bridge while one runs.
pub struct PortIo {
    index: u8,
    pub rtp_addr: SocketAddr,
    kind: PortKind,
    socket: UdpSocket,
    audio: AudioSource,
    bridge: Option<Bridge>,
    /// The running (or last) bridge's number.
    bridge_id: u64,
    reports: ReportTx,
    media: MediaProfile,
    /// What the port's calls do with their audio.
    call_audio: PortAudio,
    /// Keeps the RTP headers for `tipring capture` (`[capture] rtp_bytes`).
    tap: Option<RtpTap>,
    /// Whether a bridge runs (then only it reads the socket: STUN leaves the port alone).
    busy: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// What every bridge of a gateway shares, from its configuration: the country's tones and
/// caller-ID modulation, the jitter buffer, and the codec of a bridge without a far end.
#[derive(Debug, Clone, Copy)]
pub struct MediaProfile {
    profile: CountryProfile,
    caller_id: FskStandard,
    /// The `[media]` jitter buffer.
    jitter: JitterConfig,
    /// Codec of a bridge without a far end yet: the first configured one.
    law: Law,
    event_pt: u8,
}

impl MediaProfile {
    pub fn new(loaded: &Loaded) -> MediaProfile {
        let media = &loaded.config.media;
        MediaProfile {
            profile: loaded.tone_profile(),
            caller_id: match loaded.config.tones.country {
                ToneCountry::Us | ToneCountry::Jp | ToneCountry::Custom => FskStandard::Bell202,
                _ => FskStandard::V23,
            },
            jitter: media.jitter_config(),
            law: match media.codecs.first() {
                Some(Codec::Pcma) => Law::Alaw,
                _ => Law::Ulaw,
            },
            event_pt: media.telephone_event_pt,
        }
    }

    /// The configuration of a bridge towards `media` or on the line only; `far_digits` as
    /// [`crate::port::Port::far_digits`], `audio` the port's ([`crate::config::Port::audio`]).
    pub fn bridge_config(
        &self,
        media: Option<MediaParams>,
        far_digits: bool,
        audio: PortAudio,
    ) -> BridgeConfig {
        BridgeConfig {
            law: media.map_or(self.law, |m| m.law),
            payload_type: media.map_or(
                match self.law {
                    Law::Ulaw => 0,
                    Law::Alaw => 8,
                },
                |m| m.payload_type,
            ),
            event_payload_type: media.map_or(Some(self.event_pt), |m| m.event_payload_type),
            remote: media.map(|m| m.remote),
            send: media.is_none_or(|m| m.send),
            receive: media.is_none_or(|m| m.receive),
            srtp: media.and_then(|m| m.srtp),
            profile: self.profile,
            jitter: self.jitter,
            caller_id: self.caller_id,
            far_digits,
            echo: audio.echo,
            mute_far_dtmf: audio.mute_far_dtmf,
            answer: audio
                .answer_speech
                .map(|s| tipring_media::tone::AnswerConfig {
                    level_dbm0: f32::from(s.level_dbm0),
                    min_ms: u32::from(s.min_ms),
                }),
        }
    }
}

/// Opens every configured port's media: RTP socket (on `ip`), audio source; their bridges
/// will report to `reports` and show their packets' headers to `tap`.
pub fn open(
    loaded: &Loaded,
    ip: IpAddr,
    reports: &ReportTx,
    tap: Option<&RtpTap>,
) -> Result<BTreeMap<u8, PortIo>, GatewayError> {
    let media = &loaded.config.media;
    let profile = MediaProfile::new(loaded);
    let mut out = BTreeMap::new();
    for p in &loaded.config.ports {
        let err = |source: PortError| GatewayError::Port {
            port: p.index,
            source,
        };
        let audio = match loaded.board.audio.kind {
            AudioKind::Sim => AudioSource::Sim(
                loaded
                    .board
                    .sim_socket_dir()
                    .ok_or_else(|| err(PortError::NoSocketDir))?
                    .to_path_buf(),
            ),
            AudioKind::Alsa => {
                let cfg = loaded
                    .board
                    .alsa_config(p.index)
                    .ok_or_else(|| err(PortError::NoAlsaDevices))?;
                let law = match loaded.board.audio.format {
                    Some(BusFormat::Alaw) => Some(Law::Alaw),
                    Some(BusFormat::Ulaw) => Some(Law::Ulaw),
                    _ => None,
                };
                AudioSource::Alsa(cfg, law)
            }
        };
        let socket = bind_rtp(ip, media.rtp_port_min, media.rtp_port_max, random::u64()?).ok_or(
            GatewayError::NoRtpPort {
                port: p.index,
                ip,
                min: media.rtp_port_min,
                max: media.rtp_port_max,
            },
        )?;
        let rtp_addr = socket.local_addr()?;
        out.insert(
            p.index,
            PortIo {
                index: p.index,
                rtp_addr,
                kind: p.kind,
                socket,
                audio,
                bridge: None,
                bridge_id: 0,
                reports: reports.clone(),
                media: profile,
                call_audio: p.audio(),
                tap: tap.cloned(),
                busy: Default::default(),
            },
        );
    }
    Ok(out)
}

/// An even port of `min..=max` that binds on `ip`: the search starts at the even port
/// `r` picks and goes round the range, so every free port can be drawn.
pub(super) fn bind_rtp(ip: IpAddr, min: u16, max: u16, r: u64) -> Option<UdpSocket> {
    let first = u32::from(min) + u32::from(min) % 2;
    let slots = (u32::from(max).checked_sub(first)? / 2) + 1;
    let start = (r % u64::from(slots)) as u32;
    (0..slots).find_map(|i| {
        let port = u16::try_from(first + 2 * ((start + i) % slots)).ok()?;
        UdpSocket::bind(SocketAddr::new(ip, port)).ok()
    })
}

impl PortIo {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            PortKind::Fxs => "FXS",
            PortKind::Fxo => "FXO",
        }
    }

    /// Whether `r` comes from the port's running bridge.
    pub fn is_current(&self, r: &BridgeReport) -> bool {
        self.bridge.is_some() && r.bridge == self.bridge_id
    }

    /// Starts the bridge (stopping a running one first, whose final counters it returns)
    /// towards `media` or on the line only; `far_digits` as [`crate::port::Port::far_digits`].
    pub fn start_bridge(
        &mut self,
        media: Option<MediaParams>,
        far_digits: bool,
    ) -> Result<Option<StatsSnapshot>, GatewayError> {
        let before = self.stop_bridge();
        let index = self.index;
        let port: Box<dyn AudioPort> = match &self.audio {
            AudioSource::Sim(dir) => {
                Box::new(
                    SimAudioPort::open(dir, index).map_err(|e| GatewayError::Port {
                        port: index,
                        source: e.into(),
                    })?,
                )
            }
            AudioSource::Alsa(cfg, law) => {
                let companding =
                    law.map(|l| Box::new(G711(l)) as Box<dyn tipring_hal::audio::alsa::Companding>);
                Box::new(
                    AlsaPort::open(cfg, companding).map_err(|e| GatewayError::Port {
                        port: index,
                        source: e.into(),
                    })?,
                )
            }
        };
        let cfg = self.media.bridge_config(media, far_digits, self.call_audio);
        self.busy.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut bridge =
            Bridge::start_tapped(port, self.socket.try_clone()?, cfg, self.tap.clone())?;
        self.bridge_id += 1;
        let (reports, tx, id) = (bridge.take_reports(), self.reports.clone(), self.bridge_id);
        std::thread::Builder::new()
            .name("tipring-reports".into())
            .spawn(move || {
                // Ends with the bridge (its sender dropped) or the runtime.
                while let Ok(report) = reports.recv() {
                    let r = BridgeReport {
                        port: index,
                        bridge: id,
                        report,
                    };
                    if tx.blocking_send(r).is_err() {
                        return;
                    }
                }
            })?;
        self.bridge = Some(bridge);
        Ok(before)
    }

    /// The running bridge's counters now.
    pub fn stats(&self) -> Option<StatsSnapshot> {
        self.bridge.as_ref().map(Bridge::stats)
    }

    /// Stops the bridge, if one runs; its final counters.
    pub fn stop_bridge(&mut self) -> Option<StatsSnapshot> {
        let stats = self.bridge.take().map(Bridge::stop);
        self.busy.store(false, std::sync::atomic::Ordering::Relaxed);
        stats
    }

    /// What the STUN client needs of the port: its number, its RTP socket and whether a
    /// bridge runs on it ([`crate::gateway::stun`]).
    pub fn stun_handle(&self) -> std::io::Result<super::stun::PortSocket> {
        Ok(super::stun::PortSocket {
            id: super::sip_side::RtpSocket::Port(self.index),
            socket: self.socket.try_clone()?,
            busy: self.busy.clone(),
        })
    }

    /// Queues a command for the bridge (dropped if none runs or its queue is full).
    pub fn control(&mut self, c: Control) {
        if let Some(b) = &self.bridge {
            let _ = b.send(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::path::PathBuf;

    #[test]
    fn every_port_bridge_gets_the_configured_jitter_buffer() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let loaded = crate::config::load(
            &repo.join("tests/data/config/good.toml"),
            &repo.join("board"),
        )
        .unwrap();
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let ports = open(&loaded, IpAddr::V4(Ipv4Addr::LOCALHOST), &tx, None).unwrap();
        assert_eq!(ports.len(), loaded.config.ports.len());
        for p in ports.values() {
            // good.toml: jitter_min_ms = 40, jitter_max_ms = 160.
            for media in [
                None,
                Some(MediaParams {
                    law: Law::Alaw,
                    payload_type: 8,
                    event_payload_type: Some(101),
                    remote: SocketAddr::from(([127, 0, 0, 1], 4000)),
                    send: true,
                    receive: true,
                    srtp: None,
                }),
            ] {
                let audio = PortAudio {
                    echo: None,
                    mute_far_dtmf: false,
                    answer_speech: None,
                };
                let j = p.media.bridge_config(media, true, audio).jitter;
                assert_eq!((j.min_delay_us, j.max_delay_us), (40_000, 160_000));
                assert_eq!(j.frame_samples, 160);
            }
        }
    }

    #[test]
    fn rtp_ports_are_drawn_at_random_in_the_range() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let loaded = crate::config::load(
            &repo.join("tests/data/config/good.toml"),
            &repo.join("board"),
        )
        .unwrap();
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 15, 40));
        let media = &loaded.config.media;
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let ports_of = || -> Vec<u16> {
            open(&loaded, ip, &tx, None)
                .unwrap()
                .values()
                .map(|p| p.rtp_addr.port())
                .collect()
        };
        // Opened twice (the first set closed again), as two starts of the gateway.
        let (first, second) = (ports_of(), ports_of());
        for p in first.iter().chain(&second) {
            assert!((media.rtp_port_min..=media.rtp_port_max).contains(p), "{p}");
            assert_eq!(p % 2, 0, "{p}");
        }
        assert_ne!(first, second, "the same ports twice");
    }

    #[test]
    fn bind_rtp_goes_round_the_range_to_a_free_port() {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 15, 41));
        let taken = UdpSocket::bind(SocketAddr::new(ip, 30002)).unwrap();
        // Three even ports, the drawn one taken: the next one round is used.
        let s = bind_rtp(ip, 30000, 30004, 1).unwrap();
        assert_eq!(s.local_addr().unwrap().port(), 30004);
        let t = bind_rtp(ip, 30000, 30004, 1).unwrap();
        assert_eq!(t.local_addr().unwrap().port(), 30000);
        assert!(bind_rtp(ip, 30000, 30004, 7).is_none(), "all three taken");
        drop((taken, s, t));
    }
}
