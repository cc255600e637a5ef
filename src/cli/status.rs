//! `tipring status`: asks the running gateway on its control socket what its lines,
//! calls and registrations are doing, and prints it (text, or the JSON document with
//! `--json`).

use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use tipring::ops::control;

/// Where the packaged service's socket is (`RuntimeDirectory=tipring`).
pub const DEFAULT_SOCKET: &str = "/run/tipring/control.sock";

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The gateway's control socket (`[control] socket`).
    #[arg(long, default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,
    /// Print the JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn run(self) -> ExitCode {
        match control::query(&self.socket) {
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
