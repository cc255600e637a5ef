//! Command-line interface. One module per subcommand; this file only lists them.

mod answer;
mod audio_file;
mod call;
mod capture;
mod check_config;
mod detect;
mod dns;
mod dtmf_detect;
mod echo_cancel;
mod parse;
mod register;
mod rtp;
mod run;
mod shutdown;
mod sim_card;
mod status;
mod tls;
mod tone;
mod web_password;

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
    /// Run a simulated line card on a pseudo-terminal (scripted or interactive).
    SimCard(sim_card::SimCardArgs),
    /// Detect DTMF digits in a raw 8 kHz mono recording.
    DtmfDetect(dtmf_detect::Args),
    /// Every signal in a raw 8 kHz mono recording: DTMF, fax/modem tones, call progress.
    Detect(detect::Args),
    /// Write a country's call-progress tone to a raw s16le 8 kHz file.
    Tone(tone::Args),
    /// Cancel a line's echo in a recording (what was played and what was captured) and
    /// print the ERLE reached.
    EchoCancel(echo_cancel::Args),
    /// Validate a configuration file and print what would run.
    CheckConfig(check_config::Args),
    /// Answer SIP calls (diagnostic UAS): ring, answer with SDP, send RTP.
    Answer(answer::Args),
    /// Place one SIP call, hold it, hang up; prints the ladder.
    Call(call::Args),
    /// Register a binding with a SIP registrar.
    Register(register::Args),
    /// Run the gateway (the service): line card, call control, SIP and media.
    Run(run::Args),
    /// Show the running gateway's lines, calls, registrations and counters.
    Status(status::Args),
    /// Write the SIP messages (and RTP headers, when kept) the running gateway sent and
    /// received lately as pcap.
    Capture(capture::Args),
    /// Hash the admin page's password (read on standard input) for `[web] password_hash`.
    WebPassword(web_password::Args),
}

impl Command {
    pub fn run(self) -> ExitCode {
        match self {
            Command::Version => {
                println!("tipring {}", env!("CARGO_PKG_VERSION"));
                ExitCode::SUCCESS
            }
            Command::Parse(args) => parse::run(args),
            Command::SimCard(args) => args.run(),
            Command::DtmfDetect(a) => a.run(),
            Command::Detect(a) => a.run(),
            Command::Tone(a) => a.run(),
            Command::EchoCancel(a) => a.run(),
            Command::CheckConfig(a) => a.run(),
            Command::Answer(a) => a.run(),
            Command::Call(a) => a.run(),
            Command::Register(a) => a.run(),
            Command::Run(a) => a.run(),
            Command::Status(a) => a.run(),
            Command::Capture(a) => a.run(),
            Command::WebPassword(a) => a.run(),
        }
    }
}
