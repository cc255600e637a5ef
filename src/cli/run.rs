//! `tipring run --config FILE`: the service. Validates the configuration in full, then
//! runs the gateway until SIGTERM/SIGINT and shuts down cleanly (calls hung up, lines
//! released). The log goes to stderr, one line per event ([`tipring::service::log`]).
//!
//! With `[provisioning]` it starts with the last provisioned configuration that loads (else
//! FILE), fetches the server's in the background, and when one is accepted runs the
//! gateway again with it once every line is idle ([`tipring::ops::provision`]). Without
//! it, a configuration saved on the admin page (`[web]`) is applied the same way, and
//! when it does not start the previous one runs again ([`tipring::ops::web`]). The log's
//! level and sink stay those of the first configuration.

use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tipring::config;
use tipring::gateway;
use tipring::ops::provision;
use tipring::ops::web::{self, config_edit};
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
        let admin = Arc::new(web::Admin::default());
        let (mut current, mut text, mut from) = self.choose(loaded, text);
        // The configuration that ran before the last reload, to go back to when the new
        // one does not start.
        let mut previous: Option<(String, Source)> = None;
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
            let editing = web::Editing {
                admin: admin.clone(),
                text: text.clone(),
                from: from.describe(&self.config),
                board_dir: self.board_dir.clone(),
                reload: reload_tx.clone(),
            };
            let saved = current.config.web.file_path_from_env();
            let _fetching = shared
                .clone()
                .and_then(|s| self.start_fetching(&rt, &current, &text, s, reload_tx));
            let opts = gateway::RunOptions {
                seed,
                stop: stop_rx.clone(),
                reload: Some(reload_rx),
                provisioning: shared,
                web: Some(editing),
            };
            match rt.block_on(gateway::run_with(current, opts)) {
                Ok(gateway::Ended::Stopped) => return ExitCode::SUCCESS,
                Ok(gateway::Ended::Reload) => {}
                Err(e) => {
                    let Some((prev_text, prev_from)) = previous.take() else {
                        tracing::error!("tipring run: {e}");
                        return ExitCode::FAILURE;
                    };
                    tracing::error!(
                        "tipring run: {e}; the configuration applied last does not start, \
                         running the previous one again"
                    );
                    if let (Source::Saved, Some(saved)) = (&from, &saved) {
                        let aside = config_edit::set_aside(saved);
                        if prev_from == Source::Saved {
                            let _ = config_edit::save(saved, &prev_text);
                        }
                        tracing::info!("web: the saved configuration set aside as {aside:?}");
                    }
                    admin.note_change(format!(
                        "Rolled back at {}: the new configuration did not start ({e}); \
                         the previous one runs again.",
                        config_edit::now()
                    ));
                    let name = prev_from.describe(&self.config);
                    match config::load_str(&name, &prev_text, &self.board_dir) {
                        Ok(l) => (current, text, from) = (l, prev_text, prev_from),
                        Err(e) => {
                            tracing::error!("tipring run: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                    continue;
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
            previous = Some((std::mem::take(&mut text), from.clone()));
            (current, text, from) = self.choose(base_loaded, base_text);
            admin.note_change(format!(
                "Applied at {}: running {}.",
                config_edit::now(),
                from.describe(&self.config)
            ));
        }
    }

    /// The configuration to run: the provisioned one, else the one saved on the admin
    /// page, else the file given (see [`provision::startup`], [`config_edit::startup`]);
    /// with its text and where it came from.
    fn choose(&self, base: config::Loaded, base_text: String) -> (config::Loaded, String, Source) {
        let provisions = base.config.provisioning.url.is_some();
        let (l, t, why) = provision::startup(base, base_text, &self.board_dir);
        if provisions {
            tracing::info!("provisioning: {why}");
            return (l, t, Source::Provisioning(why));
        }
        let (l, t, why) = config_edit::startup(l, t, &self.config, &self.board_dir);
        if !why.is_empty() {
            tracing::info!("web: {why}");
        }
        let from = if text_is_base(&self.config, &t) {
            Source::File
        } else {
            Source::Saved
        };
        (l, t, from)
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

/// Where the running configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The file given to `tipring run`.
    File,
    /// `[web] file`, saved on the admin page.
    Saved,
    /// Provisioning chose it; why.
    Provisioning(String),
}

impl Source {
    fn describe(&self, base: &std::path::Path) -> String {
        match self {
            Source::File => format!("the file {}", base.display()),
            Source::Saved => "the configuration saved on the admin page".into(),
            Source::Provisioning(why) => format!("provisioning: {why}"),
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
