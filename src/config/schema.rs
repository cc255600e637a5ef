//! The configuration file's schema (docs/CONFIG.md is the reference of every field).
//! Deserialised with serde, then checked by [`super::validate`]; a [`Config`] handed out by
//! [`super::load`] has passed every check.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use tipring_hal::model::PortKind;
use tipring_media::echo::{EchoConfig, TAIL_MS_DEFAULT};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Board profile name: `board/<name>.toml`.
    pub board: String,
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub accounts: Vec<Account>,
    pub ports: Vec<Port>,
    /// Digit maps by name (see `crate::dialplan`).
    #[serde(default)]
    pub dial_plans: BTreeMap<String, String>,
    /// Feature codes by feature (`do_not_disturb_on = "*78"`, ...): changes to the North
    /// American defaults; `""` switches one off.
    #[serde(default)]
    pub feature_codes: BTreeMap<String, String>,
    #[serde(default)]
    pub tones: Tones,
    #[serde(default)]
    pub timers: Timers,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub media: Media,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub log: Log,
    #[serde(default)]
    pub control: super::operations::Control,
    #[serde(default)]
    pub records: super::operations::Records,
    #[serde(default)]
    pub metrics: super::operations::Metrics,
    #[serde(default)]
    pub capture: super::operations::Capture,
    #[serde(default)]
    pub provisioning: super::operations::Provisioning,
    #[serde(default)]
    pub web: super::operations::Web,
    #[serde(default)]
    pub dns: Dns,
}

/// Where host names are looked up (RFC 3263: NAPTR, SRV, A/AAAA).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// DNS servers, `ADDR` (port 53) or `ADDR:PORT`; empty: the system's
    /// (`/etc/resolv.conf`).
    #[serde(default, deserialize_with = "dns_servers")]
    pub servers: Vec<SocketAddr>,
}

/// A DNS server given as `ADDR` (port 53) or `ADDR:PORT` (`[V6]:PORT`).
pub fn parse_dns_server(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>().ok().or_else(|| {
        s.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

fn dns_servers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SocketAddr>, D::Error> {
    let raw = Vec::<String>::deserialize(d)?;
    raw.iter()
        .map(|s| {
            parse_dns_server(s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "\"{s}\" is not an IP address with an optional port (\"192.0.2.53\", \"[2001:db8::53]:5353\")"
                ))
            })
        })
        .collect()
}

/// What `tipring run` logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// Level directives (`info`, `warn,tipring_sip=debug`); `RUST_LOG` overrides them.
    #[serde(default)]
    pub level: Option<String>,
}

/// Who this gateway is on the SIP side.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// `User-Agent` / `Server` header text.
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Local SIP listeners.
    #[serde(default = "default_listen")]
    pub listen: Vec<Listener>,
    /// Certificate files, required when any listener or account uses TLS.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            user_agent: default_user_agent(),
            listen: default_listen(),
            tls: None,
        }
    }
}

fn default_user_agent() -> String {
    format!("tipring/{}", env!("CARGO_PKG_VERSION"))
}

fn default_listen() -> Vec<Listener> {
    vec![Listener {
        transport: Transport::Udp,
        address: SocketAddr::from(([0, 0, 0, 0], 5060)),
    }]
}

/// One SIP listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    pub transport: Transport,
    /// `ip:port`, e.g. `0.0.0.0:5060` or `[::]:5061`.
    pub address: SocketAddr,
}

/// SIP transport (RFC 3261 §18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

/// PEM files for TLS listeners and TLS accounts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA bundle to verify peers; the system roots when absent.
    #[serde(default)]
    pub ca: Option<PathBuf>,
}

/// A SIP service the gateway uses: where to register, where to send calls, as whom.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Name ports refer to.
    pub name: String,
    /// Registrar URI (RFC 3261 §10); no registration when absent.
    #[serde(default)]
    pub registrar: Option<String>,
    /// Proxy that receives outgoing INVITEs; direct to the Request-URI when absent.
    #[serde(default)]
    pub proxy: Option<String>,
    /// Tried when the proxy does not answer (408/503 or transport failure).
    #[serde(default)]
    pub secondary_proxy: Option<String>,
    /// Outbound proxy: every request is sent there first (pre-loaded Route, RFC 3261 §8.1.2).
    #[serde(default)]
    pub outbound_proxy: Option<String>,
    /// Address-of-record user part and digest user name.
    #[serde(default)]
    pub username: Option<String>,
    /// Digest user name when it differs from `username`.
    #[serde(default)]
    pub auth_username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// SIP domain of the address of record; the registrar's host when absent.
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub transport: Transport,
    /// Requested registration lifetime, seconds (RFC 3261 §10.2.1.1 `expires`).
    #[serde(default = "default_expiry")]
    pub register_expiry_s: u32,
    /// Subscribe to the account's message-waiting indication (RFC 3842 `message-summary`
    /// at its address-of-record) and show it on the account's FXS phones.
    #[serde(default)]
    pub mwi: bool,
    /// The voicemail server to subscribe at instead of the address-of-record (Cisco's
    /// "mailbox subscribe URL"): SUBSCRIBE goes straight to this SIP URI, and its host may
    /// send NOTIFYs. Setting it turns `mwi` on.
    #[serde(default)]
    pub mwi_server: Option<String>,
    /// The digest realm the account's servers challenge with: credentials are sent only to
    /// a challenge of this realm (when absent: only for requests to the account's own
    /// domain, registrar and proxy hosts).
    #[serde(default)]
    pub realm: Option<String>,
    /// Behind a NAT: what the registered Contact says (RFC 3581).
    #[serde(default)]
    pub nat: NatMode,
    /// Seconds between keepalives to the registrar while registered; 0: none.
    #[serde(default)]
    pub keepalive_s: u32,
    /// What a keepalive is; by default CRLF on TCP/TLS, OPTIONS on UDP.
    #[serde(default)]
    pub keepalive: Option<KeepaliveKind>,
    /// SRTP for the account's calls (RFC 3711, keyed by SDES, RFC 4568): only over TLS.
    #[serde(default)]
    pub media_encryption: MediaEncryption,
}

/// Whether a call's media is encrypted (SRTP keyed by SDES).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaEncryption {
    /// RTP in clear; an RTP/SAVP offer is refused (488).
    #[default]
    None,
    /// Best effort: our offers carry a key in RTP/AVP; encrypted when the far end takes
    /// it, in clear when it does not.
    Optional,
    /// Encrypted or no call: RTP/SAVP offered, offers and answers without a key refused.
    Mandatory,
}

/// What the registered Contact says behind a NAT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NatMode {
    /// The gateway's own address; the registrar handles the NAT.
    #[default]
    Registrar,
    /// The address the registrar saw us at (`received`/`rport`), re-registered with it.
    Learn,
}

/// A keepalive toward the registrar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepaliveKind {
    /// CRLF CRLF (RFC 5626 §4.4.1).
    Crlf,
    /// An OPTIONS request.
    Options,
}

fn default_expiry() -> u32 {
    3600
}

impl Account {
    /// The URIs of the account's servers as written: registrar, proxy, secondary proxy and
    /// outbound proxy, those configured.
    /// Whether the account subscribes to message-waiting indication.
    pub fn wants_mwi(&self) -> bool {
        self.mwi || self.mwi_server.is_some()
    }

    pub fn servers(&self) -> impl Iterator<Item = &String> {
        [
            &self.registrar,
            &self.proxy,
            &self.secondary_proxy,
            &self.outbound_proxy,
        ]
        .into_iter()
        .flatten()
    }
}

/// The `kind` field, with the hal's type (ports here and in board profiles).
#[derive(Deserialize)]
#[serde(remote = "PortKind", rename_all = "lowercase")]
pub(super) enum PortKindDef {
    Fxs,
    Fxo,
}

/// One analog port. Which fields apply depends on `kind`; see [`Port::role`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// Port number on the board (0-based, as the board profile lists them).
    pub index: u8,
    /// Must equal the board's kind for this index.
    #[serde(with = "PortKindDef")]
    pub kind: PortKind,
    /// Account its calls use; the first account when absent.
    #[serde(default)]
    pub account: Option<String>,
    /// Number this port is reached at (user part of the Request-URI of incoming INVITEs),
    /// and, for FXS, the caller identity it presents.
    #[serde(default)]
    pub number: Option<String>,
    /// Display name presented with `number`.
    #[serde(default)]
    pub display_name: Option<String>,
    /// FXS: digit map name for dialled digits. FXO: digit map for two-stage dialling.
    #[serde(default)]
    pub dial_plan: Option<String>,
    /// FXS: call this URI as soon as the phone goes off-hook. FXO: inbound hotline target.
    #[serde(default)]
    pub hotline: Option<String>,
    /// FXS: call this URI when no digit is dialled within `warm_line_delay_ms`.
    #[serde(default)]
    pub warm_line: Option<String>,
    #[serde(default = "default_warm_delay")]
    pub warm_line_delay_ms: u32,
    /// FXO: what to do with a ringing line.
    #[serde(default)]
    pub inbound: Option<FxoInbound>,
    /// FXO: ring bursts before seizing the line (caller ID arrives after the first).
    #[serde(default)]
    pub rings_before_seize: Option<u8>,
    /// FXO: after a polarity reversal or a DT-AS on the idle line, how long caller ID and
    /// the first ring may take (the exchange's timing: ETSI EN 300 659-1 §6.1.2); 6000 ms
    /// when absent.
    #[serde(default)]
    pub caller_id_window_ms: Option<u32>,
    /// FXO: how to dial out on the line.
    #[serde(default)]
    pub dialing: Option<DialMode>,
    /// FXO: when to send 200 OK for a call out on the line.
    #[serde(default)]
    pub answer_supervision: Option<AnswerSupervision>,
    /// FXO, `answer_supervision = "speech"`: a frame quieter than this is silence, dBm0.
    #[serde(default)]
    pub answer_speech_dbm0: Option<i8>,
    /// FXO, `answer_supervision = "speech"`: voice within one second that answers, ms.
    #[serde(default)]
    pub answer_speech_ms: Option<u16>,
    /// FXO: how the far end hanging up is noticed.
    #[serde(default)]
    pub far_hangup: Option<FarHangup>,
    /// FXO: length of the hook flash sent to the line when the far end signals one.
    #[serde(default)]
    pub flash_ms: Option<u16>,
    /// FXO: digit map of the numbers that may reach the line, dialled into it for a SIP
    /// caller or sent toward SIP by a two-stage caller; [`DEFAULT_DIAL_ALLOW`] when absent.
    #[serde(default)]
    pub dial_allow: Option<String>,
    /// FXO two-stage: the PIN a PSTN caller dials (then `#`) before dialling a number.
    #[serde(default)]
    pub disa_pin: Option<String>,
    /// FXO two-stage: whether `disa_pin` is required (default true).
    #[serde(default)]
    pub disa_pin_required: Option<bool>,
    /// FXO: longest call, seconds; then BYE and the line is released.
    #[serde(default)]
    pub max_call_s: Option<u32>,
    /// FXO: seizures allowed in any hour, both ways.
    #[serde(default)]
    pub max_calls_per_hour: Option<u32>,
    /// FXO: the far end's RFC 4733 digits are dialled into the line once the call is up.
    #[serde(default)]
    pub allow_digits_after_answer: Option<bool>,
    /// FXO: the far end's RFC 4733 hook flash flashes the line.
    #[serde(default)]
    pub allow_flash: Option<bool>,
    /// FXO: an INVITE for the port's own `number` seizes the line without dialling.
    #[serde(default)]
    pub allow_direct_seize: Option<bool>,
    /// The line echo canceller (G.168) on this port's calls; on when absent.
    #[serde(default)]
    pub echo_canceller: Option<bool>,
    /// Its tail, ms (16..=128, default 64): the longest echo it cancels, audio device's
    /// round trip included.
    #[serde(default)]
    pub echo_tail_ms: Option<u16>,
    /// Its non-linear processor and comfort noise; on when absent.
    #[serde(default)]
    pub echo_nlp: Option<bool>,
    /// FXO: let DTMF tones in the far end's audio reach the line. Off by default: digits
    /// reach the line only as RFC 4733 events, through `dial_allow` and
    /// `allow_digits_after_answer`; in-band tones would bypass both.
    #[serde(default)]
    pub allow_inband_digits: Option<bool>,
    /// How a fax on this port's calls travels: `t38` (the default where the firmware has
    /// T.38) or `passthrough` (G.711 audio in voice-band data mode).
    #[serde(default)]
    pub fax: Option<FaxMode>,
    /// FXS: distinctive ringing, `Alert-Info` token → cadence (`dr1`..`dr4` or
    /// `on,off,…` ms), added to the built-in Bellcore tokens ([`super::ring`]).
    #[serde(default)]
    pub alert_info_rings: Option<BTreeMap<String, String>>,
    /// FXS: do not disturb: incoming calls are refused (486) without ringing.
    #[serde(default)]
    pub do_not_disturb: Option<bool>,
    /// FXS: anonymous call rejection: a caller who hides its identity (anonymous From,
    /// `Privacy: id`/`user`/`header`) is refused with 433 (RFC 5079) without ringing.
    #[serde(default)]
    pub reject_anonymous: Option<bool>,
    /// FXS: outgoing caller-ID blocking: calls go out as `"Anonymous"
    /// <sip:anonymous@anonymous.invalid>` with `Privacy: id` (RFC 3323, RFC 3325).
    #[serde(default)]
    pub caller_id_blocking: Option<bool>,
    /// FXS: call forwarding to this SIP URI: every call, calls finding the phone busy,
    /// calls it leaves unanswered for `no_answer_s`; how, `forward_mode` says.
    #[serde(default)]
    pub forward_always: Option<String>,
    #[serde(default)]
    pub forward_busy: Option<String>,
    #[serde(default)]
    pub forward_no_answer: Option<String>,
    /// FXS: how calls are forwarded: `redirect` (the default: 302 with the target as
    /// Contact, the caller places the new call) or `gateway` (the box calls the target
    /// from the port's account and relays the two calls' audio, RFC 7092's B2BUA).
    #[serde(default)]
    pub forward_mode: Option<ForwardMode>,
    /// FXS: an incoming call rings this long before it is refused (480) or forwarded
    /// (`forward_no_answer`); 60 s when absent.
    #[serde(default)]
    pub no_answer_s: Option<u16>,
    /// FXS: call waiting: a second call while the phone talks plays the call-waiting
    /// tone and waits for a flash (which holds the first); on when absent. Off: 486.
    #[serde(default)]
    pub call_waiting: Option<bool>,
    /// FXS: a waiting call unanswered this long is refused; 30 s when absent.
    #[serde(default)]
    pub call_waiting_timeout_s: Option<u16>,
    /// FXS: the status of that refusal, 480 (the default) or 486.
    #[serde(default)]
    pub call_waiting_status: Option<u16>,
    /// FXO: the exchange announces caller ID before the first ring with a dual-tone alert
    /// (DT-AS, ETSI EN 300 659-1 §6.1.2, e.g. BT's network) instead of, or besides, a
    /// polarity reversal: the line's audio is listened to while it is idle.
    #[serde(default)]
    pub dt_as: Option<bool>,
    /// FXS: what the phone's hook flash in a call does: `features` (the default: call
    /// waiting swaps, a consultation and transfer) or `relay` (RFC 4733 event 16 to the
    /// far end, for a PBX trunk with transfers of its own; call waiting is then off).
    #[serde(default)]
    pub flash: Option<FlashMode>,
    /// FXS: whether the phone's feature codes (`[feature_codes]`) are recognised; on when
    /// absent. Off for a PBX trunk that dials star codes of its own.
    #[serde(default)]
    pub feature_codes: Option<bool>,
}

/// `[[ports]] forward_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardMode {
    Redirect,
    Gateway,
}

/// `[[ports]] flash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashMode {
    Features,
    Relay,
}

/// How a port's fax calls travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaxMode {
    /// As G.711 audio, in voice-band data mode (ITU-T V.152's spirit): no echo NLP, fixed
    /// jitter buffer, no concealment.
    Passthrough,
    /// Relayed as T.38 over UDPTL (re-INVITE to `image/t38` when the line's fax answers;
    /// the far end's T.38 re-INVITE accepted), falling back to pass-through when the far
    /// end refuses.
    T38,
}

impl FaxMode {
    /// Whether this firmware was built with the T.38 relay (cargo feature `t38`).
    pub const T38_BUILT: bool = cfg!(feature = "t38");
}

/// What a port's calls do with their audio, from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortAudio {
    /// The echo canceller, `None` when turned off.
    pub echo: Option<EchoConfig>,
    /// DTMF in the far end's audio is kept off the line.
    pub mute_far_dtmf: bool,
    /// FXO answer detection by voice, when the port's supervision is `speech`.
    pub answer_speech: Option<SpeechAnswer>,
}

impl Port {
    /// Whether a second call may wait while the port's phone talks: an FXS port whose
    /// flash is the phone's own, call waiting not switched off.
    pub fn call_waiting_on(&self) -> bool {
        self.kind == PortKind::Fxs
            && self.call_waiting != Some(false)
            && self.flash != Some(FlashMode::Relay)
    }

    /// Whether the box itself places this port's forwarded calls (`forward_mode =
    /// "gateway"`) rather than redirecting the caller.
    pub fn forwards_by_gateway(&self) -> bool {
        self.forward_mode == Some(ForwardMode::Gateway)
    }

    /// The echo canceller this port's calls run, `None` when turned off.
    pub fn echo(&self) -> Option<EchoConfig> {
        self.echo_canceller.unwrap_or(true).then(|| EchoConfig {
            tail_ms: self.echo_tail_ms.unwrap_or(TAIL_MS_DEFAULT),
            nlp: self.echo_nlp.unwrap_or(true),
        })
    }

    /// How this port's fax calls travel: as configured, else T.38 where the firmware has
    /// it.
    pub fn fax_mode(&self) -> FaxMode {
        self.fax.unwrap_or(if FaxMode::T38_BUILT {
            FaxMode::T38
        } else {
            FaxMode::Passthrough
        })
    }

    /// What this port's calls do with their audio.
    pub fn audio(&self) -> PortAudio {
        PortAudio {
            echo: self.echo(),
            mute_far_dtmf: self.kind == PortKind::Fxo && !self.allow_inband_digits.unwrap_or(false),
            answer_speech: (self.kind == PortKind::Fxo
                && self.answer_supervision == Some(AnswerSupervision::Speech))
            .then(|| SpeechAnswer {
                level_dbm0: self
                    .answer_speech_dbm0
                    .unwrap_or(DEFAULT_ANSWER_SPEECH_DBM0),
                min_ms: self.answer_speech_ms.unwrap_or(DEFAULT_ANSWER_SPEECH_MS),
            }),
        }
    }
}

/// The numbers an FXO line takes when its port names no `dial_allow`: three-digit
/// extensions of the PBX the line hangs on, and 911 (112 is among the extensions). No star
/// code, no `0`/`1` prefix, no `+`, nothing longer.
pub const DEFAULT_DIAL_ALLOW: &str = "{ [1-8]xx | 911 }";
/// Default longest call on an FXO line, seconds (4 h).
pub const DEFAULT_MAX_CALL_S: u32 = 4 * 3600;
/// Default seizures per hour of an FXO line.
pub const DEFAULT_MAX_CALLS_PER_HOUR: u32 = 60;

fn default_warm_delay() -> u32 {
    4000
}

/// What an FXO port does when its line rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FxoInbound {
    /// Seize and call the port's `hotline` URI.
    Hotline,
    /// Seize, play dial tone to the line, collect digits against `dial_plan`.
    TwoStage,
}

/// Dialling on an FXO line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DialMode {
    /// DTMF tones (ITU-T Q.23).
    #[default]
    Dtmf,
    /// Loop-disconnect pulses.
    Pulse,
}

/// When an outgoing call on an FXO line counts as answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerSupervision {
    /// 200 OK right after the last digit is dialled.
    #[default]
    Immediate,
    /// 200 OK when the exchange reverses the line polarity.
    PolarityReversal,
    /// 200 OK when the far party's voice is heard after dialling (`answer_speech_dbm0`,
    /// `answer_speech_ms`).
    Speech,
}

/// Default `answer_speech_dbm0`.
pub const DEFAULT_ANSWER_SPEECH_DBM0: i8 = -35;
/// Default `answer_speech_ms`.
pub const DEFAULT_ANSWER_SPEECH_MS: u16 = 400;

/// Answer detection by voice on an FXO line: frames louder than `level_dbm0` that are no
/// call-progress tone, `min_ms` of them within a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechAnswer {
    pub level_dbm0: i8,
    pub min_ms: u16,
}

/// Far-end hangup detection on an FXO line; any enabled method releases the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FarHangup {
    /// Loop current drops (open switch interval, CPC).
    #[serde(default = "yes")]
    pub loop_current_drop: bool,
    #[serde(default)]
    pub polarity_reversal: bool,
    /// Busy or reorder tone of the configured country heard on the line.
    #[serde(default)]
    pub busy_tone: bool,
    /// Silence for this long, ms (0 = off).
    #[serde(default)]
    pub silence_ms: u32,
}

fn yes() -> bool {
    true
}

impl Default for FarHangup {
    fn default() -> Self {
        FarHangup {
            loop_current_drop: true,
            polarity_reversal: false,
            busy_tone: false,
            silence_ms: 0,
        }
    }
}

/// A validated port's role, derived from its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRole<'a> {
    /// FXS, digits collected against a digit map.
    FxsDialPlan { dial_plan: &'a str },
    /// FXS, calls `uri` on off-hook.
    FxsHotline { uri: &'a str },
    /// FXS, calls `uri` after `delay_ms` without a digit; digits before that use `dial_plan`.
    FxsWarmLine {
        uri: &'a str,
        delay_ms: u32,
        dial_plan: Option<&'a str>,
    },
    /// FXO.
    Fxo(FxoRole<'a>),
}

/// A validated FXO port's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FxoRole<'a> {
    pub inbound: FxoInboundRole<'a>,
    pub rings_before_seize: u8,
    pub caller_id_window_ms: u32,
    pub dialing: DialMode,
    pub answer_supervision: AnswerSupervision,
    pub far_hangup: FarHangup,
    pub flash_ms: u16,
    /// The allow-list digit map, as written.
    pub dial_allow: &'a str,
    /// Two-stage only: the DISA PIN.
    pub disa_pin: Option<&'a str>,
    pub max_call_s: u32,
    pub max_calls_per_hour: u32,
    pub allow_digits_after_answer: bool,
    pub allow_flash: bool,
    pub allow_direct_seize: bool,
}

/// A validated FXO port's inbound handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FxoInboundRole<'a> {
    Hotline { uri: &'a str },
    TwoStage { dial_plan: &'a str },
}

/// Default ring count before an FXO port seizes: after the second burst, so the caller ID
/// sent between the first and the second (Telcordia GR-30) has been received.
pub const DEFAULT_RINGS_BEFORE_SEIZE: u8 = 2;

impl Port {
    /// The port's role. Meaningful on a validated [`Config`]; on an unvalidated one a
    /// missing choice falls back to the first applicable field.
    pub fn role(&self) -> PortRole<'_> {
        match self.kind {
            PortKind::Fxs => {
                if let Some(uri) = self.hotline.as_deref() {
                    PortRole::FxsHotline { uri }
                } else if let Some(uri) = self.warm_line.as_deref() {
                    PortRole::FxsWarmLine {
                        uri,
                        delay_ms: self.warm_line_delay_ms,
                        dial_plan: self.dial_plan.as_deref(),
                    }
                } else {
                    PortRole::FxsDialPlan {
                        dial_plan: self.dial_plan.as_deref().unwrap_or(""),
                    }
                }
            }
            PortKind::Fxo => PortRole::Fxo(FxoRole {
                inbound: match (self.inbound, self.hotline.as_deref()) {
                    (Some(FxoInbound::Hotline), Some(uri)) | (None, Some(uri)) => {
                        FxoInboundRole::Hotline { uri }
                    }
                    _ => FxoInboundRole::TwoStage {
                        dial_plan: self.dial_plan.as_deref().unwrap_or(""),
                    },
                },
                rings_before_seize: self
                    .rings_before_seize
                    .unwrap_or(DEFAULT_RINGS_BEFORE_SEIZE),
                caller_id_window_ms: self
                    .caller_id_window_ms
                    .unwrap_or(crate::call::fxo::CALLER_ID_WINDOW.as_millis() as u32),
                dialing: self.dialing.unwrap_or_default(),
                answer_supervision: self.answer_supervision.unwrap_or_default(),
                far_hangup: self.far_hangup.unwrap_or_default(),
                flash_ms: self.flash_ms.unwrap_or(crate::call::fxo::DEFAULT_FLASH_MS),
                dial_allow: self.dial_allow.as_deref().unwrap_or(DEFAULT_DIAL_ALLOW),
                disa_pin: self.disa_pin.as_deref(),
                max_call_s: self.max_call_s.unwrap_or(DEFAULT_MAX_CALL_S),
                max_calls_per_hour: self
                    .max_calls_per_hour
                    .unwrap_or(DEFAULT_MAX_CALLS_PER_HOUR),
                allow_digits_after_answer: self.allow_digits_after_answer.unwrap_or(true),
                allow_flash: self.allow_flash.unwrap_or(false),
                allow_direct_seize: self.allow_direct_seize.unwrap_or(false),
            }),
        }
    }
}

/// Call-progress tones and ring cadence.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tones {
    /// A built-in plan (`us`, `uk`, `de`, `fr`, `it`, `au`, `jp`; upper case and `gb`
    /// accepted too) or `custom`.
    #[serde(default)]
    pub country: ToneCountry,
    /// The plan when `country = "custom"`.
    #[serde(default)]
    pub custom: Option<CustomTones>,
}

impl Default for Tones {
    fn default() -> Self {
        Tones {
            country: ToneCountry::Us,
            custom: None,
        }
    }
}

/// Country of the tone plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ToneCountry {
    #[default]
    #[serde(alias = "US")]
    Us,
    #[serde(alias = "UK", alias = "gb", alias = "GB")]
    Uk,
    #[serde(alias = "DE")]
    De,
    #[serde(alias = "FR")]
    Fr,
    #[serde(alias = "IT")]
    It,
    #[serde(alias = "AU")]
    Au,
    #[serde(alias = "JP")]
    Jp,
    Custom,
}

/// A custom tone plan.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomTones {
    pub dial: ToneDef,
    pub ringback: ToneDef,
    pub busy: ToneDef,
    pub congestion: ToneDef,
    pub call_waiting: ToneDef,
    /// FXS ringing cadence, on/off ms pairs.
    pub ring_ms: Vec<u32>,
}

/// One tone: 1 or 2 frequencies (Hz) at a level, with an on/off cadence (ms; empty =
/// continuous).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToneDef {
    pub freqs: Vec<f32>,
    pub level_dbm0: f32,
    #[serde(default)]
    pub cadence_ms: Vec<u32>,
}

/// Timers, all in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timers {
    /// Off-hook to first digit, then reorder tone.
    pub first_digit_ms: u32,
    /// Interdigit timer once the digits could complete a pattern (`T` in a digit map).
    pub interdigit_short_ms: u32,
    /// Interdigit timer while no pattern is complete yet.
    pub interdigit_long_ms: u32,
    /// Outgoing call unanswered for this long: CANCEL.
    pub ring_timeout_ms: u32,
    /// SIP T1, RTT estimate (RFC 3261 §17.1.1.1).
    pub sip_t1_ms: u32,
    /// SIP T2, longest non-INVITE retransmit interval (RFC 3261 §17.1.2.2).
    pub sip_t2_ms: u32,
    /// Session timers (RFC 4028): the interval our INVITEs ask for, seconds; 0: session
    /// timers off (neither asked for nor granted).
    pub session_expires_s: u32,
    /// The shortest session interval accepted (`Min-SE`), seconds.
    pub min_se_s: u32,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            first_digit_ms: 10_000,
            interdigit_short_ms: 3_000,
            interdigit_long_ms: 10_000,
            ring_timeout_ms: 60_000,
            sip_t1_ms: 500,
            sip_t2_ms: 4_000,
            session_expires_s: 1800,
            min_se_s: 90,
        }
    }
}

/// Who may reach the FXO lines (the PSTN).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Addresses or CIDR blocks (`192.0.2.10`, `10.0.0.0/8`, `2001:db8::/32`) whose
    /// INVITEs reach FXO lines without authentication; `{ address, transport }` binds the
    /// trust to one transport.
    #[serde(default)]
    pub trusted_peers: Vec<TrustedPeerEntry>,
    /// Digest credentials other peers must present (RFC 3261 §22).
    #[serde(default)]
    pub inbound_auth: Vec<Credential>,
    /// Digest realm for challenges; the first listener's address when absent.
    #[serde(default)]
    pub realm: Option<String>,
    /// Algorithms of the challenges, preferred first: one WWW-Authenticate each, in this
    /// order (RFC 8760 §2.4, RFC 7616 §3.7). Clients that answer only the first challenge
    /// and only know MD5 need `["md5"]` or MD5 first.
    #[serde(default = "default_auth_algorithms")]
    pub auth_algorithms: Vec<AuthAlgorithm>,
    /// How closely a response (or in-dialog request) must come from where our request went.
    #[serde(default)]
    pub response_source: ResponseSource,
    /// 3xx targets followed beyond the accounts' own servers: hosts or CIDR blocks.
    #[serde(default)]
    pub redirect_allow: Vec<String>,
    /// Answer RFC 2069 digest challenges (no qop): off, they give no client nonce.
    #[serde(default)]
    pub allow_rfc2069: bool,
    /// Who may ring the FXS ports.
    #[serde(default)]
    pub fxs_inbound: FxsInbound,
    /// Who may move a port's call elsewhere: a REFER from the call's peer (the gateway
    /// then places the call it asks for, from the port's account) or an INVITE with
    /// `Replaces` taking the call over.
    #[serde(default)]
    pub accept_transfer: AcceptTransfer,
    /// Address blocks a peer may name as a media or signalling target (SDP `c=`, Contact,
    /// Record-Route) although they are loopback, multicast, broadcast or unspecified
    /// (`crate::gateway::sip_side::targets`).
    #[serde(default)]
    pub allow_targets: Vec<String>,
}

/// `[security] response_source`: see [`tipring_sip::ua::SourceCheck`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseSource {
    /// The address and port the request went to (over TCP/TLS: its address).
    #[default]
    Exact,
    /// The address the request went to, any port.
    Host,
    /// Anywhere (the transport is still checked).
    Any,
}

impl From<ResponseSource> for tipring_sip::ua::SourceCheck {
    fn from(r: ResponseSource) -> Self {
        match r {
            ResponseSource::Exact => tipring_sip::ua::SourceCheck::Exact,
            ResponseSource::Host => tipring_sip::ua::SourceCheck::Host,
            ResponseSource::Any => tipring_sip::ua::SourceCheck::Any,
        }
    }
}

impl Default for Security {
    fn default() -> Self {
        Security {
            trusted_peers: Vec::new(),
            inbound_auth: Vec::new(),
            realm: None,
            auth_algorithms: default_auth_algorithms(),
            response_source: ResponseSource::default(),
            redirect_allow: Vec::new(),
            allow_rfc2069: false,
            fxs_inbound: FxsInbound::default(),
            accept_transfer: AcceptTransfer::default(),
            allow_targets: Vec::new(),
        }
    }
}

/// One `trusted_peers` entry: `"10.0.0.0/8"` (any transport) or
/// `{ address = "10.0.0.5", transport = "tls" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum TrustedPeerEntry {
    /// An address or block trusted over every transport (source-address trust).
    Address(String),
    /// An address or block trusted only over one transport.
    Bound(BoundPeer),
}

/// A trusted block bound to a transport.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundPeer {
    pub address: String,
    pub transport: Transport,
}

impl TrustedPeerEntry {
    /// The address or block as written.
    pub fn address(&self) -> &str {
        match self {
            TrustedPeerEntry::Address(a) => a,
            TrustedPeerEntry::Bound(b) => &b.address,
        }
    }

    /// The transport the trust is bound to, if any.
    pub fn transport(&self) -> Option<Transport> {
        match self {
            TrustedPeerEntry::Address(_) => None,
            TrustedPeerEntry::Bound(b) => Some(b.transport),
        }
    }
}

impl std::fmt::Display for TrustedPeerEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.transport() {
            None => write!(f, "{}", self.address()),
            Some(t) => write!(f, "{} over {t:?}", self.address()),
        }
    }
}

/// Who may ring an FXS port (a phone): `[security] fxs_inbound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FxsInbound {
    /// The accounts' registrar and proxies (their resolved addresses), trusted peers, or
    /// callers with `inbound_auth` credentials.
    #[default]
    Proxy,
    /// Trusted peers or callers with credentials only.
    Trusted,
    /// Anyone (a scan rings every phone).
    Any,
}

/// `[security] accept_transfer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AcceptTransfer {
    /// Trusted peers and the accounts' servers (a PBX or the provider): a transfer makes
    /// the gateway place a call its owner pays for.
    #[default]
    Trusted,
    /// Anyone in the call (with `fxs_inbound = "any"`, anyone who can call a phone can
    /// also make the gateway call elsewhere).
    Any,
    /// Nobody: REFER gets 403, an INVITE with `Replaces` 403.
    None,
}

/// SHA-256 before MD5 (RFC 8760 §2.4).
fn default_auth_algorithms() -> Vec<AuthAlgorithm> {
    vec![AuthAlgorithm::Sha256, AuthAlgorithm::Md5]
}

/// A digest algorithm inbound callers are challenged with (RFC 7616 §6.1, RFC 8760 §2.1);
/// the wire tokens (`SHA-256`, `MD5`, `SHA-512-256`) are accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthAlgorithm {
    #[serde(rename = "sha-256", alias = "SHA-256")]
    Sha256,
    #[serde(rename = "md5", alias = "MD5")]
    Md5,
    #[serde(rename = "sha-512-256", alias = "SHA-512-256")]
    Sha512_256,
}

impl From<AuthAlgorithm> for tipring_sip::digest::Algorithm {
    fn from(a: AuthAlgorithm) -> Self {
        match a {
            AuthAlgorithm::Sha256 => tipring_sip::digest::Algorithm::Sha256,
            AuthAlgorithm::Md5 => tipring_sip::digest::Algorithm::Md5,
            AuthAlgorithm::Sha512_256 => tipring_sip::digest::Algorithm::Sha512_256,
        }
    }
}

/// One inbound digest credential.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub username: String,
    pub password: String,
}

/// Media settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Media {
    /// Codecs offered / accepted, most preferred first.
    pub codecs: Vec<Codec>,
    /// Jitter buffer depth bounds, ms.
    pub jitter_min_ms: u32,
    pub jitter_max_ms: u32,
    /// Payload type of RFC 4733 telephone-event (dynamic, 96..=127).
    pub telephone_event_pt: u8,
    /// Packetisation time, ms: [`PTIME_MS`] only (one audio frame per packet).
    pub ptime_ms: u32,
    /// Local UDP ports for RTP (even) and RTCP (odd), inclusive.
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// A STUN server (`HOST` or `HOST:PORT`, 3478 by default) the RTP ports ask where they
    /// are reached from outside a NAT (RFC 8489).
    pub stun_server: Option<String>,
}

impl Media {
    /// `stun_server` as host and port, when set and well formed.
    pub fn stun_server(&self) -> Option<(String, u16)> {
        let s = self.stun_server.as_deref()?.trim();
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Some((a.ip().to_string(), a.port()));
        }
        if let Ok(ip) = s.parse::<std::net::IpAddr>() {
            return Some((ip.to_string(), 3478));
        }
        match s.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !h.contains(':') => {
                Some((h.to_owned(), p.parse().ok().filter(|p| *p != 0)?))
            }
            Some(_) => None,
            None if !s.is_empty() && !s.contains(char::is_whitespace) => Some((s.to_owned(), 3478)),
            None => None,
        }
    }
}

/// The one packetisation time the audio path supports: an ALSA period / simulator frame
/// (`tipring_hal::audio::FRAME_SAMPLES` at 8 kHz) per RTP packet.
pub const PTIME_MS: u32 = 20;

impl Default for Media {
    fn default() -> Self {
        Media {
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            jitter_min_ms: 20,
            jitter_max_ms: 200,
            telephone_event_pt: 101,
            ptime_ms: PTIME_MS,
            rtp_port_min: 10_000,
            rtp_port_max: 20_000,
            stun_server: None,
        }
    }
}

/// G.711 codecs (RFC 3551 §4.5.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// µ-law, static payload type 0.
    Pcmu,
    /// A-law, static payload type 8.
    Pcma,
}

/// Bounds on what the network can make the gateway hold: per-source rates and bans,
/// table and stream-connection caps, the message log's rate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Messages per second a source may send, sustained (token bucket refill).
    pub rate_per_s: u32,
    /// Messages a source may send at once (bucket depth).
    pub burst: u32,
    /// The same for the accounts' registrar/proxy addresses and the trusted peers; over it
    /// their messages are dropped but they are never banned.
    pub server_rate_per_s: u32,
    pub server_burst: u32,
    /// A source over its rate is ignored for this long, doubled at each new ban...
    pub ban_min_s: u32,
    /// ...up to this.
    pub ban_max_s: u32,
    /// Sources tracked at once; beyond it new sources share one bucket.
    pub max_sources: u32,
    /// Drop requests whose User-Agent contains one of `scanner_user_agents`.
    pub drop_scanners: bool,
    /// Substrings (case-insensitive) of known scanners' User-Agent headers.
    pub scanner_user_agents: Vec<String>,
    /// Server transactions at once; beyond it a new request gets 503 (stateless).
    pub max_server_transactions: u32,
    /// Client transactions at once; beyond it a new request of ours fails locally.
    pub max_client_transactions: u32,
    /// Calls (dialogs) the UA keeps at once, ended ones included; beyond it 503.
    pub max_calls: u32,
    /// Early dialogs one outgoing call keeps (forked provisional responses, RFC 3261
    /// §13.2.2.4); a provisional response starting one more is ignored.
    pub max_early_dialogs: u32,
    /// Forwarded calls the box relays at once (`forward_mode = "gateway"`): each holds
    /// two RTP sockets, bound at start; a call to forward beyond it gets 486.
    pub max_relayed_calls: u32,
    /// Digest nonces the inbound-auth server tracks (for their `nc`); the oldest are
    /// forgotten first, and a response to a forgotten one is answered stale.
    pub max_digest_nonces: u32,
    /// Failed-authentication records (per source, per user name) the throttle keeps.
    pub max_auth_failure_records: u32,
    /// Sent/received SIP message lines logged per second (0: none); the rest are counted.
    pub wire_log_per_s: u32,
    /// Stream (TCP and TLS) connections open at once, accepted and opened together.
    pub max_stream_connections: u32,
    /// Stream connections accepted from one IP address at once.
    pub max_connections_per_source: u32,
    /// A SIP message begun on a stream connection must be complete within this time.
    pub stream_message_timeout_ms: u32,
    /// An outgoing TCP connect must complete within this time.
    pub stream_connect_timeout_ms: u32,
    /// A TLS handshake, accepted or opened, must complete within this time.
    pub stream_handshake_timeout_ms: u32,
    /// Bytes queued for sending on one stream connection; beyond it the connection closes.
    pub stream_send_queue_bytes: u32,
    /// A write to a stream connection must complete within this time.
    pub stream_write_timeout_ms: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_per_s: 20,
            burst: 60,
            server_rate_per_s: 500,
            server_burst: 1_000,
            ban_min_s: 10,
            ban_max_s: 600,
            max_sources: 4_096,
            drop_scanners: true,
            scanner_user_agents: DEFAULT_SCANNERS.iter().map(|s| (*s).to_owned()).collect(),
            max_server_transactions: 4_096,
            max_client_transactions: 1_024,
            max_calls: 1_024,
            max_early_dialogs: tipring_sip::ua::MAX_EARLY_DIALOGS as u32,
            max_relayed_calls: 2,
            max_digest_nonces: 4_096,
            max_auth_failure_records: 4_096,
            wire_log_per_s: 50,
            max_stream_connections: 256,
            max_connections_per_source: 16,
            stream_message_timeout_ms: 10_000,
            stream_connect_timeout_ms: 5_000,
            stream_handshake_timeout_ms: 10_000,
            stream_send_queue_bytes: 64 * 1024,
            stream_write_timeout_ms: 10_000,
        }
    }
}

/// User-Agent substrings of common SIP scanners (sipvicious and its forks, sipcli,
/// sip-scan, sundayddr, iWar, VaxSIPUserAgent).
pub const DEFAULT_SCANNERS: &[&str] = &[
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "sip-scan",
    "sundayddr",
    "iwar",
    "vaxsipuseragent",
];
