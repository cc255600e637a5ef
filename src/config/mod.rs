//! The gateway's configuration: one TOML file (docs/CONFIG.md), validated in full before
//! anything starts (DESIGN.md principle 6). [`load`] returns a [`Config`] that passed every
//! check together with its [`BoardProfile`], or every problem found; nothing is half-applied.
//!
//! Call control and the runtime use most of this API; items they do not use yet are allowed
//! to stand unused in the binary.
#![allow(dead_code, unused_imports)]

mod board;
mod error;
mod locate;
mod schema;
mod trust;
mod validate;

pub use board::{Audio, AudioKind, BoardPort, BoardProfile, BusFormat, Led, Serial, Watchdog};
pub use error::{ConfigError, Diagnostic};
pub use schema::*;
pub use trust::{PeerFilter, TrustedPeer};

use locate::Locator;
use std::path::Path;

/// Where installed board profiles live.
pub const DEFAULT_BOARD_DIR: &str = "/usr/share/tipring/board";

/// A validated configuration and the board it runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub board: BoardProfile,
    /// The trusted peers, parsed.
    pub trusted: PeerFilter,
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
    Ok(Loaded {
        config,
        board,
        trusted,
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
        // Every dial plan in a validated config parses.
        for map in c.dial_plans.values() {
            crate::dialplan::DigitMap::parse(map).unwrap();
        }
    }

    #[test]
    fn defaults_fill_omitted_sections() {
        let text = "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:a@127.0.0.1\"\n";
        let l = load_str("t.toml", text, &repo().join("board")).unwrap();
        assert_eq!(l.config.timers, Timers::default());
        assert_eq!(l.config.media, Media::default());
        assert_eq!(l.config.identity.listen.len(), 1);
        assert_eq!(l.config.tones.country, ToneCountry::Us);
    }
}
