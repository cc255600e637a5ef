//! `tipring web-password`: reads a password on standard input (its first line; not echoed
//! when that is a terminal) and prints its Argon2id hash as a PHC string, for `[web]
//! password_hash`. The password itself is kept nowhere.

use clap::Args as ClapArgs;
use std::io::{BufRead, IsTerminal};
use std::process::{Command, ExitCode, Stdio};
use tipring::ops::web::auth;

/// The shortest password accepted.
const MIN_LEN: usize = 8;

#[derive(Debug, ClapArgs)]
pub struct Args {}

impl Args {
    pub fn run(self) -> ExitCode {
        let tty = std::io::stdin().is_terminal();
        if tty {
            eprint!("admin page password: ");
            set_echo(false);
        }
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line);
        if tty {
            set_echo(true);
            eprintln!();
        }
        if let Err(e) = read {
            eprintln!("tipring web-password: standard input: {e}");
            return ExitCode::FAILURE;
        }
        let password = line.trim_end_matches(['\r', '\n']);
        if password.chars().count() < MIN_LEN {
            eprintln!("tipring web-password: a password of at least {MIN_LEN} characters");
            return ExitCode::FAILURE;
        }
        match auth::hash_password(password) {
            Ok(h) => {
                println!("{h}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tipring web-password: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

/// Turns the terminal's echo on or off (`stty`, on the inherited standard input).
fn set_echo(on: bool) {
    let _ = Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(Stdio::inherit())
        .status();
}
