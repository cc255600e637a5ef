//! baresip (Debian `baresip`) run by a test: headless, auto-answer, G.711 only, no sound
//! card. Its aubridge module stands in for the audio device; with the same device name for
//! player and source it feeds what baresip receives back into what it sends, so a tone
//! sent to baresip comes back (an echo through a real, independent SIP/RTP stack). Its log
//! (stdout and stderr in one file) says which calls it established.

use crate::process::Proc;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// What a test adds to baresip's configuration.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Lines appended to `config` (each ending in `\n`), e.g. `module srtp.so\n`.
    pub config: String,
    /// Appended to the account's URI, e.g. `;transport=tls`.
    pub uri_params: String,
    /// Appended to the account's parameters, e.g. `;mediaenc=srtp-mand`.
    pub account_params: String,
}

/// A baresip process, killed on drop.
pub struct Baresip {
    proc: Proc,
    /// Its configuration directory (a scratch directory for the test's other files too).
    pub dir: PathBuf,
}

impl Baresip {
    /// A configuration for account `user` with SIP on `listen`, then baresip started on it
    /// with `args` (`-e COMMAND`, `-t SECONDS`, ...).
    pub fn start(test: &str, listen: SocketAddr, user: &str, args: &[&str]) -> Baresip {
        Baresip::start_with(test, listen, user, &Extra::default(), args)
    }

    /// As [`Baresip::start`] with `extra` configuration lines and account parameters.
    pub fn start_with(
        test: &str,
        listen: SocketAddr,
        user: &str,
        extra: &Extra,
        args: &[&str],
    ) -> Baresip {
        let dir =
            std::env::temp_dir().join(format!("tipring-baresip-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = format!(
            "poll_method poll\nringback_disabled yes\nnet_interface {ip}\nsip_listen {listen}\naudio_player aubridge,{test}\n\
             audio_source aubridge,{test}\naudio_alert aubridge,{test}-alert\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aubridge.so\n\
             module_app account.so\nmodule_app menu.so\n{more}",
            ip = listen.ip(),
            more = extra.config,
        );
        std::fs::write(dir.join("config"), config).expect("config");
        std::fs::write(
            dir.join("accounts"),
            format!(
                "<sip:{user}@{listen}{uri}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA{params}\n",
                uri = extra.uri_params,
                params = extra.account_params,
            ),
        )
        .expect("accounts");
        let cfg = dir.to_string_lossy().into_owned();
        let mut all = vec!["-f", &cfg];
        all.extend_from_slice(args);
        let proc = Proc::spawn(&dir, "baresip", "baresip", &all);
        Baresip { proc, dir }
    }

    /// Its log so far.
    pub fn output(&self) -> String {
        self.proc.output()
    }

    /// Waits up to `limit` until its log contains `text`.
    pub fn wait_for(&self, text: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.output().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Waits up to `limit` for it to exit (its `-t`); its status and log.
    pub fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        self.proc.wait(limit)
    }
}
