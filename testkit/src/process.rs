//! Processes run by a test (a `tipring` subcommand, or any program), their output in
//! files, killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A `tipring` child process.
pub struct Tipring {
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
}

impl Tipring {
    /// Starts the `tipring` binary `exe` with `args`; `test` names its scratch directory.
    pub fn spawn(exe: &Path, test: &str, args: &[&str]) -> Tipring {
        let dir = std::env::temp_dir().join(format!("tipring-proc-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("stdout");
        let err = dir.join("stderr");
        let child = Command::new(exe)
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
        read(&self.out)
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        read(&self.err)
    }

    /// Waits up to `limit` for it to exit; its status and stdout. Panics on timeout.
    pub fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let (out, err) = (self.out.clone(), self.err.clone());
        let s = wait_child(&mut self.child, limit, || {
            format!("tipring did not finish: {}\n{}", read(&out), read(&err))
        });
        (s, self.stdout())
    }
}

/// Waits up to `limit` for `child` to exit and takes it; panics with `why()` on timeout.
pub fn wait_child(
    child: &mut Option<Child>,
    limit: Duration,
    why: impl Fn() -> String,
) -> ExitStatus {
    let end = Instant::now() + limit;
    loop {
        let c = child.as_mut().expect("running");
        if let Some(s) = c.try_wait().expect("try_wait") {
            *child = None;
            return s;
        }
        assert!(Instant::now() < end, "{}", why());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Any program run by a test, its stdout and stderr in one file, killed on drop.
pub struct Proc {
    child: Option<Child>,
    out: PathBuf,
}

impl Proc {
    /// Starts `program ARGS` with its output in `dir/NAME.out`.
    pub fn spawn(dir: &Path, name: &str, program: &str, args: &[&str]) -> Proc {
        let out = dir.join(format!("{name}.out"));
        let f = std::fs::File::create(&out).expect("output file");
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(f.try_clone().expect("dup"))
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Proc {
            child: Some(child),
            out,
        }
    }

    /// Its output so far.
    pub fn output(&self) -> String {
        read(&self.out)
    }

    /// Waits up to `limit` for it to exit; its status and output. Panics on timeout.
    pub fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let out = self.out.clone();
        let s = wait_child(&mut self.child, limit, || {
            format!("did not finish: {}", read(&out))
        });
        (s, self.output())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Tipring {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        remove_scratch(self.out.parent());
    }
}

/// Removes a helper's scratch directory when it is done, unless the test is failing (its
/// logs and captures stay for the post-mortem).
pub fn remove_scratch(dir: Option<&Path>) {
    if let Some(d) = dir
        && !std::thread::panicking()
    {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A output file's text so far (empty when unreadable).
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
