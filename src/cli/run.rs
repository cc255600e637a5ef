//! `tipring run --config FILE`: the service. Validates the configuration in full, then
//! runs the gateway until SIGTERM/SIGINT and shuts down cleanly (calls hung up, lines
//! released). The log goes to stderr, one line per event ([`tipring::service::log`]).

use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use tipring::config;
use tipring::gateway;
use tipring::service::log;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The configuration file (e.g. /etc/tipring/tipring.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Directory of board profiles (`<name>.toml`).
    #[arg(long, default_value = config::DEFAULT_BOARD_DIR)]
    pub board_dir: PathBuf,
    /// Test knob: seed of SIP tags, branches, Call-IDs and RTP SSRCs, which become
    /// predictable (default: the OS random number generator).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl Args {
    pub fn run(self) -> ExitCode {
        // A panic in any task or thread ends the service instead of leaving it half-dead.
        tipring::service::panic::install();
        let loaded = match config::load(&self.config, &self.board_dir) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{e}");
                eprintln!(
                    "{}: configuration rejected; nothing runs",
                    self.config.display()
                );
                return ExitCode::FAILURE;
            }
        };
        let (filter, refused) = log::filter(loaded.config.log.level.as_deref());
        log::install(
            log::Sink::detect(),
            filter,
            loaded.config.limits.wire_log_per_s,
        );
        if let Some(e) = refused {
            tracing::warn!("RUST_LOG passed over: {e}");
        }
        let seed = self.seed;
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!("tipring run: runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Never turned: the gateway stops on SIGTERM/SIGINT.
        let (_stop, stop_rx) = tokio::sync::watch::channel(false);
        match rt.block_on(gateway::run(loaded, seed, stop_rx)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("tipring run: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
