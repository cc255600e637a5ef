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

pub use board::{Audio, BoardPort, BoardProfile, BusFormat, Led, Serial, Watchdog};
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
