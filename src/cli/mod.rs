//! Command-line interface. One module per subcommand; this file only lists them.

mod parse;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// tipring: SIP-to-PSTN gateway firmware for analog FXS/FXO line cards.
#[derive(Debug, Parser)]
#[command(name = "tipring", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the tipring version and the crates it is built from.
    Version,
    /// Parse one SIP message (file or stdin) and print it as JSON.
    Parse(parse::ParseArgs),
}

impl Command {
    pub fn run(self) -> ExitCode {
        match self {
            Command::Version => {
                println!("tipring {}", env!("CARGO_PKG_VERSION"));
                ExitCode::SUCCESS
            }
            Command::Parse(args) => parse::run(args),
        }
    }
}
