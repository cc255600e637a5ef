//! `tipring status`: asks the running gateway on its control socket what its lines,
//! calls and registrations are doing, and prints it (text, or the JSON document with
//! `--json`).

use clap::Args as ClapArgs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tipring::ops::control;

/// Where the packaged service's socket is (`RuntimeDirectory=tipring`).
pub const DEFAULT_SOCKET: &str = "/run/tipring/control.sock";

/// Which control socket to ask: how the operator names it on the command line.
#[derive(Debug, ClapArgs)]
pub struct Socket {
    /// The gateway's control socket; default: the one `--config` names, else
    /// /run/tipring/control.sock (the packaged service's).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// The gateway's configuration file: its `[control] socket` is the one asked.
    #[arg(long, conflicts_with = "socket")]
    pub config: Option<PathBuf>,
}

/// Only the `[control]` table of a configuration (the rest is the service's business).
#[derive(Debug, Default, serde::Deserialize)]
struct ControlOnly {
    #[serde(default)]
    control: tipring::config::Control,
}

impl Socket {
    /// The socket's path: `--socket`, else the configuration's `[control] socket` (unset:
    /// the service's runtime directory, i.e. the default), else the default; an error
    /// names the file and why.
    pub fn path(&self) -> Result<PathBuf, String> {
        if let Some(s) = &self.socket {
            return Ok(s.clone());
        }
        let Some(file) = &self.config else {
            return Ok(PathBuf::from(DEFAULT_SOCKET));
        };
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        socket_of(&text, file)
    }
}

/// The control socket a configuration's text names (`file` for the messages).
fn socket_of(text: &str, file: &Path) -> Result<PathBuf, String> {
    let c: ControlOnly = toml::from_str(text).map_err(|e| format!("{}: {e}", file.display()))?;
    let runtime = Path::new(DEFAULT_SOCKET).parent();
    c.control
        .socket_path(runtime)
        .ok_or_else(|| format!("{}: [control] enabled = false: no socket", file.display()))
}

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub socket: Socket,
    /// Print the JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn run(self) -> ExitCode {
        let socket = match self.socket.path() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("tipring status: {e}");
                return ExitCode::FAILURE;
            }
        };
        match control::query(&socket) {
            Ok(s) if self.json => {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Ok(s) => {
                print!("{}", s.to_text());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tipring status: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_is_the_flags_else_the_configurations_else_the_services() {
        let f = Path::new("tipring.toml");
        let named = "board = \"sim\"\n[control]\nsocket = \"/tmp/gw1/control.sock\"\n";
        assert_eq!(
            socket_of(named, f).unwrap(),
            Path::new("/tmp/gw1/control.sock")
        );
        assert_eq!(
            socket_of("board = \"sim\"\n", f).unwrap(),
            Path::new(DEFAULT_SOCKET)
        );
        let off = "[control]\nenabled = false\n";
        assert!(socket_of(off, f).unwrap_err().contains("tipring.toml"));
        assert!(
            socket_of("[control\n", f)
                .unwrap_err()
                .starts_with("tipring.toml")
        );
        let flag = Socket {
            socket: Some("/x.sock".into()),
            config: None,
        };
        assert_eq!(flag.path().unwrap(), Path::new("/x.sock"));
        let none = Socket {
            socket: None,
            config: None,
        };
        assert_eq!(none.path().unwrap(), Path::new(DEFAULT_SOCKET));
        let missing = Socket {
            socket: None,
            config: Some("/nonexistent/tipring.toml".into()),
        };
        assert!(
            missing
                .path()
                .unwrap_err()
                .contains("/nonexistent/tipring.toml")
        );
    }
}
