//! A `tipring` subcommand run by a test, its stdout and stderr in files, killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A `tipring` child process.
pub struct Tipring {
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
}

impl Tipring {
    /// Starts `tipring ARGS`; `test` names its scratch directory.
    pub fn spawn(test: &str, args: &[&str]) -> Tipring {
        let dir = std::env::temp_dir().join(format!("tipring-proc-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("stdout");
        let err = dir.join("stderr");
        let child = Command::new(env!("CARGO_BIN_EXE_tipring"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout"))
            .stderr(std::fs::File::create(&err).expect("stderr"))
            .spawn()
            .expect("tipring");
        Tipring {
            child: Some(child),
            out,
            err,
        }
    }

    /// Sends SIGINT (the way a user stops it at a terminal).
    pub fn interrupt(&self) {
        self.signal("-INT");
    }

    /// Sends SIGTERM (the way systemd stops it).
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
        }
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits up to `limit` for it to exit; its status and stdout. Panics on timeout.
    pub fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let end = Instant::now() + limit;
        loop {
            let c = self.child.as_mut().expect("running");
            if let Some(s) = c.try_wait().expect("try_wait") {
                self.child = None;
                return (s, self.stdout());
            }
            assert!(
                Instant::now() < end,
                "tipring did not finish: {}\n{}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tipring {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
