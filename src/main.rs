//! `tipring`: the gateway binary. Each subcommand lives in its own module under `cli/`.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    args.command.run()
}
