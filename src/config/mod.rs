//! The gateway's configuration: one TOML file (docs/CONFIG.md), validated in full before
//! anything starts (DESIGN.md principle 6). [`load`] returns a [`Config`] that passed every
//! check together with its [`BoardProfile`], or every problem found; nothing is half-applied.
//!
//! Call control and the runtime use most of this API; items they do not use yet are allowed
//! to stand unused in the binary.

mod board;
mod error;
mod features;
mod locate;
mod operations;
pub mod ring;
mod schema;
mod trust;
mod validate;

pub use board::{Audio, AudioKind, BoardPort, BoardProfile, BusFormat, Led, Serial, Watchdog};
pub use error::{ConfigError, Diagnostic};
pub use operations::{Capture, Control, Metrics, Provisioning, Records, Web};
pub use schema::*;
pub use trust::{PeerFilter, TrustedPeer, udp_trust_warnings};

use crate::dialplan::{self, DigitMap, LineMode};
use locate::Locator;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tipring_media::jitter::JitterConfig;
use tipring_media::tone::{Country, CountryProfile, ToneSpec};

/// Where installed board profiles live.
pub const DEFAULT_BOARD_DIR: &str = "/usr/share/tipring/board";

/// A validated configuration and the board it runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub board: BoardProfile,
    /// The trusted peers, parsed.
    pub trusted: PeerFilter,
    /// The dial plans, parsed.
    pub dial_plans: BTreeMap<String, DigitMap>,
}

impl Loaded {
    /// The digit map named `name`.
    pub fn digit_map(&self, name: &str) -> Option<&DigitMap> {
        self.dial_plans.get(name)
    }

    /// The feature codes an FXS port recognises (`[feature_codes]` over the defaults).
    pub fn feature_codes(&self) -> crate::call::FeatureCodes {
        // Validated: a table that did not build was refused at load.
        features::feature_codes(&self.config.feature_codes).unwrap_or_default()
    }

    /// Digit-collection timers for [`dialplan::Collector`].
    pub fn dial_timers(&self) -> dialplan::Timers {
        let t = &self.config.timers;
        let ms = |v: u32| Duration::from_millis(v.into());
        dialplan::Timers {
            first_digit: ms(t.first_digit_ms),
            interdigit_short: ms(t.interdigit_short_ms),
            interdigit_long: ms(t.interdigit_long_ms),
        }
    }

    /// The tone plan (built-in country or the validated custom plan).
    pub fn tone_profile(&self) -> CountryProfile {
        tone_profile(&self.config.tones).unwrap_or_else(|| CountryProfile::builtin(Country::Us))
    }
}

/// The tone plan of `t`; `None` only for an invalid custom plan (rejected by validation).
fn tone_profile(t: &Tones) -> Option<CountryProfile> {
    let country = match t.country {
        ToneCountry::Us => Country::Us,
        ToneCountry::Uk => Country::Uk,
        ToneCountry::De => Country::De,
        ToneCountry::Fr => Country::Fr,
        ToneCountry::It => Country::It,
        ToneCountry::Au => Country::Au,
        ToneCountry::Jp => Country::Jp,
        ToneCountry::Custom => {
            let c = t.custom.as_ref()?;
            let spec = |d: &ToneDef| ToneSpec::new(&d.freqs, d.level_dbm0, &d.cadence_ms).ok();
            return CountryProfile::custom(
                spec(&c.dial)?,
                spec(&c.ringback)?,
                spec(&c.busy)?,
                spec(&c.congestion)?,
                spec(&c.call_waiting)?,
                &c.ring_ms,
            )
            .ok();
        }
    };
    Some(CountryProfile::builtin(country))
}

impl Media {
    /// The jitter buffer of every port's bridge: the configured depth bounds, one frame of
    /// `ptime_ms` at the G.711 clock (RFC 3551 §4.5.14: 8000 Hz).
    pub fn jitter_config(&self) -> JitterConfig {
        let ms = |v: u32| u64::from(v) * 1_000;
        JitterConfig {
            frame_samples: self.ptime_ms * 8,
            min_delay_us: ms(self.jitter_min_ms),
            max_delay_us: ms(self.jitter_max_ms),
            ..JitterConfig::default()
        }
    }
}

impl Port {
    /// How an FXS port collects its call: hotline, warm line or digits only.
    pub fn line_mode(&self) -> LineMode {
        match self.role() {
            PortRole::FxsHotline { uri } => LineMode::Hotline {
                target: uri.to_string(),
            },
            PortRole::FxsWarmLine { uri, delay_ms, .. } => LineMode::WarmLine {
                target: uri.to_string(),
                delay: Duration::from_millis(delay_ms.into()),
            },
            PortRole::FxsDialPlan { .. } | PortRole::Fxo(_) => LineMode::Normal,
        }
    }
}

/// Reads `path`, the board profile it names from `board_dir`, and validates both.
pub fn load(path: &Path, board_dir: &Path) -> Result<Loaded, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::whole_file(&shown, format!("cannot read: {e}")))?;
    load_str(&shown, &text, board_dir)
}

/// As [`load`], from text; `file` names it in errors.
pub fn load_str(file: &str, text: &str, board_dir: &Path) -> Result<Loaded, ConfigError> {
    let config: Config = deserialize(file, text)?;
    let board_line = Locator::new(text).line("board");
    let board = BoardProfile::load(board_dir, &config.board).map_err(|mut e| {
        // Name the config line that chose the board too.
        e.diagnostics.insert(
            0,
            Diagnostic {
                file: file.to_string(),
                line: board_line,
                field: "board".into(),
                message: format!("board profile \"{}\" is not usable", config.board),
            },
        );
        e
    })?;
    let trusted = validate::validate(file, text, &config, &board)?;
    let dial_plans = config
        .dial_plans
        .iter()
        .filter_map(|(name, map)| Some((name.clone(), DigitMap::parse(map).ok()?)))
        .collect();
    Ok(Loaded {
        config,
        board,
        trusted,
        dial_plans,
    })
}

/// serde step with the failing field's path and line.
fn deserialize<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| {
        let loc = Locator::new(text);
        ConfigError {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                line: e.span().map(|s| loc.line_of(s.start)),
                field: String::new(),
                message: format!("TOML syntax: {}", e.message()),
            }],
        }
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let loc = Locator::new(text);
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        let inner = e.inner();
        let line = inner
            .span()
            .map(|s| loc.line_of(s.start))
            .or_else(|| loc.line(&field));
        ConfigError {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                line,
                field,
                message: error::reword(inner.message()),
            }],
        }
    })
}

#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod operations_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::path::PathBuf;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn good_config_loads_with_typed_roles() {
        let l = load(
            &repo().join("tests/data/config/good.toml"),
            &repo().join("board"),
        )
        .unwrap();
        let c = &l.config;
        assert_eq!(l.board.name, "sim");
        assert_eq!(
            c.ports[0].role(),
            PortRole::FxsDialPlan { dial_plan: "local" }
        );
        assert_eq!(
            c.ports[1].role(),
            PortRole::FxsWarmLine {
                uri: "sip:reception@127.0.0.1",
                delay_ms: 5000,
                dial_plan: Some("local")
            }
        );
        let PortRole::Fxo(f) = c.ports[2].role() else {
            panic!("port 2 is FXO")
        };
        assert_eq!(
            f.inbound,
            FxoInboundRole::Hotline {
                uri: "sip:operator@127.0.0.1"
            }
        );
        assert_eq!(f.answer_supervision, AnswerSupervision::PolarityReversal);
        assert!(f.far_hangup.busy_tone && f.far_hangup.loop_current_drop);
        let PortRole::Fxo(f) = c.ports[3].role() else {
            panic!("port 3 is FXO")
        };
        assert_eq!(f.dialing, DialMode::Pulse);
        assert_eq!(f.rings_before_seize, DEFAULT_RINGS_BEFORE_SEIZE);
        assert!(l.trusted.trusts("127.0.0.9".parse::<IpAddr>().unwrap()));
        assert!(!l.trusted.trusts("192.0.2.1".parse::<IpAddr>().unwrap()));
        // Every dial plan in a validated config is parsed.
        assert_eq!(l.dial_plans.len(), c.dial_plans.len());
        assert!(l.digit_map("local").is_some());
        assert_eq!(l.dial_timers().interdigit_short, Duration::from_secs(2));
        assert_eq!(l.tone_profile(), CountryProfile::builtin(Country::De));
        assert_eq!(c.ports[0].line_mode(), LineMode::Normal);
        assert_eq!(
            c.ports[1].line_mode(),
            LineMode::WarmLine {
                target: "sip:reception@127.0.0.1".into(),
                delay: Duration::from_secs(5)
            }
        );
    }

    proptest::proptest! {
        /// Whatever the bytes, loading answers with a config or diagnostics, never a panic.
        #[test]
        fn loading_never_panics(pos in 0usize..2000, junk in "\\PC{0,12}") {
            let good = include_str!("../../tests/data/config/good.toml");
            let mut cut = pos.min(good.len());
            while !good.is_char_boundary(cut) {
                cut -= 1;
            }
            let text = format!("{}{junk}{}", &good[..cut], &good[cut..]);
            let _ = load_str("t.toml", &text, &repo().join("board"));
        }
    }

    #[test]
    fn media_section_gives_the_jitter_buffer_its_bounds() {
        let l = load(
            &repo().join("tests/data/config/good.toml"),
            &repo().join("board"),
        )
        .unwrap();
        let j = l.config.media.jitter_config();
        // good.toml: jitter_min_ms = 40, jitter_max_ms = 160.
        assert_eq!((j.min_delay_us, j.max_delay_us), (40_000, 160_000));
        assert_eq!(j.frame_samples, 160);
        assert_eq!(j.clock_rate, 8000);
    }

    #[test]
    fn a_ptime_the_audio_path_cannot_send_is_refused() {
        let text = "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:a@127.0.0.1\"\n[media]\nptime_ms = 30\n";
        let e = load_str("t.toml", text, &repo().join("board")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:7: media.ptime_ms: 30 is not one of 20 (the audio path sends one 20 ms frame per packet)"
        );
        let ok = text.replace("ptime_ms = 30", "ptime_ms = 20");
        assert!(load_str("t.toml", &ok, &repo().join("board")).is_ok());
    }

    #[test]
    fn srtp_is_refused_on_an_account_whose_signalling_is_in_clear() {
        let text = "board = \"sim\"\n[[accounts]]\nname = \"itsp\"\nproxy = \"sip:192.0.2.1\"\n\
            media_encryption = \"optional\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:a@192.0.2.1\"\n";
        let e = load_str("t.toml", text, &repo().join("board")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:5: accounts[0].media_encryption: SRTP needs transport = \"tls\": its keys \
             travel in the SDP, never over a hop in clear"
        );
        let bad = text.replace("\"optional\"", "\"always\"");
        assert!(load_str("t.toml", &bad, &repo().join("board")).is_err());
        let none = text.replace("\"optional\"", "\"none\"");
        let l = load_str("t.toml", &none, &repo().join("board")).unwrap();
        assert_eq!(l.config.accounts[0].media_encryption, MediaEncryption::None);
    }

    #[test]
    fn defaults_fill_omitted_sections() {
        let text = "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:a@127.0.0.1\"\n";
        let l = load_str("t.toml", text, &repo().join("board")).unwrap();
        assert_eq!(l.config.timers, Timers::default());
        assert_eq!(l.config.media, Media::default());
        assert_eq!(l.config.identity.listen.len(), 1);
        assert_eq!(l.config.tones.country, ToneCountry::Us);
        assert_eq!(l.config.security, Security::default());
        assert_eq!(
            l.config.security.auth_algorithms,
            [AuthAlgorithm::Sha256, AuthAlgorithm::Md5]
        );
    }
}
