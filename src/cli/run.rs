//! `tipring run --config FILE`: the service. Validates the configuration in full, then
//! runs the gateway until SIGTERM/SIGINT and shuts down cleanly (calls hung up, lines
//! released). The log goes to stderr, one line per event ([`tipring::service::log`]).
//!
//! With `[provisioning]` it starts with the last provisioned configuration that loads (else
//! FILE), fetches the server's in the background, and when one is accepted runs the
//! gateway again with it once every line is idle ([`tipring::ops::provision`]). The log's
//! level and sink stay those of the first configuration.

use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tipring::config;
use tipring::gateway;
use tipring::ops::provision;
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
        let text = std::fs::read_to_string(&self.config).unwrap_or_default();
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
        // The provisioning client's TLS uses the process's crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = loaded.config.provisioning.clone();
        let (mut current, mut text, why) = provision::startup(loaded, text, &self.board_dir);
        if base.url.is_some() {
            tracing::info!("provisioning: {why}");
        }
        loop {
            let shared = base.url.as_ref().map(|url| {
                let provisioned = !text_is_base(&self.config, &text);
                Arc::new(Mutex::new(provision::ProvisionStatus {
                    url: url.clone(),
                    running: if provisioned { "provisioned" } else { "base" }.into(),
                    accepted: provisioned
                        .then(|| current.config.provisioning.file_path_from_env())
                        .flatten()
                        .and_then(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
                        .map(tipring::ops::timestamp::rfc3339),
                    ..Default::default()
                }))
            });
            let (reload_tx, reload_rx) = tokio::sync::watch::channel(false);
            let _fetching = shared
                .clone()
                .and_then(|s| self.start_fetching(&rt, &current, &text, s, reload_tx));
            let opts = gateway::RunOptions {
                seed,
                stop: stop_rx.clone(),
                reload: Some(reload_rx),
                provisioning: shared,
            };
            match rt.block_on(gateway::run_with(current, opts)) {
                Ok(gateway::Ended::Stopped) => return ExitCode::SUCCESS,
                Ok(gateway::Ended::Reload) => {}
                Err(e) => {
                    tracing::error!("tipring run: {e}");
                    return ExitCode::FAILURE;
                }
            }
            let base_loaded = match config::load(&self.config, &self.board_dir) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!("tipring run: {}: {e}", self.config.display());
                    return ExitCode::FAILURE;
                }
            };
            let base_text = std::fs::read_to_string(&self.config).unwrap_or_default();
            let (next, next_text, why) =
                provision::startup(base_loaded, base_text, &self.board_dir);
            tracing::info!("provisioning: {why}");
            (current, text) = (next, next_text);
        }
    }

    /// Starts fetching `current`'s provisioning on `rt`; the task ends when dropped.
    fn start_fetching(
        &self,
        rt: &tokio::runtime::Runtime,
        current: &config::Loaded,
        text: &str,
        shared: provision::Shared,
        reload: tokio::sync::watch::Sender<bool>,
    ) -> Option<AbortOnDrop> {
        let p = &current.config.provisioning;
        let file = p.file_path_from_env()?;
        match provision::Fetcher::new(p) {
            Ok(f) => Some(AbortOnDrop(rt.spawn(provision::run(
                f,
                file,
                text.to_owned(),
                self.board_dir.clone(),
                Duration::from_secs(p.interval_s.into()),
                shared,
                reload,
            )))),
            Err(e) => {
                tracing::error!("provisioning: not started: {e}");
                if let Ok(mut s) = shared.lock() {
                    s.last_result = Some(format!("not started: {e}"));
                }
                None
            }
        }
    }
}

/// Whether `text` is the file given to `tipring run`.
fn text_is_base(path: &std::path::Path, text: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t == text)
}

/// Stops a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
