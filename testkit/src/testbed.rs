//! Two gateways on one machine, each a real `tipring run` process with a simulated line
//! card (hal's [`SimCard`], hosted here) on 127.0.0.1 and 127.0.0.2: what the demo (`examples/demo.rs`)
//! and the whole-process tests drive. Each gateway gets its own directory (card PTY
//! symlink, audio sockets, board profile, configuration) under one temporary directory;
//! their logs are collected line by line with the moment each line arrived.

use crate::config::Conf;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring_hal::model::PortKind;
use tipring_hal::sim::{SimCard, SimConfig};

/// The sim board profile of a testbed gateway: its card's PTY symlink and audio sockets
/// in `dir`, the given ports (as the shipped `board/sim.toml`, moved and resized).
pub fn sim_board(dir: &Path, ports: &[PortKind]) -> String {
    let mut b = format!(
        "name = \"sim\"\ndescription = \"testbed card\"\n\n[serial]\ndevice = \"{}\"\n\
         baud = 115200\nframing = \"8N1\"\n\n[audio]\nkind = \"sim\"\nsocket_dir = \"{}\"\n",
        dir.join("card.tty").display(),
        dir.join("audio").display()
    );
    for (i, k) in ports.iter().enumerate() {
        let kind = match k {
            PortKind::Fxs => "fxs",
            PortKind::Fxo => "fxo",
        };
        b.push_str(&format!("\n[[ports]]\nindex = {i}\nkind = \"{kind}\"\n"));
    }
    b
}

/// One gateway of the testbed.
pub struct Node {
    pub name: String,
    /// Its SIP address.
    pub sip: SocketAddr,
    pub dir: PathBuf,
    pub card: std::sync::Arc<SimCard>,
    child: Option<Child>,
    /// Log lines with their arrival time.
    pub log: Arc<Mutex<Vec<(Instant, String)>>>,
    echo: bool,
    env: Vec<(String, String)>,
    /// A command that runs the gateway binary (its path appended), e.g. `qemu-aarch64`.
    runner: Vec<String>,
}

/// A log line and where it came from.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: Instant,
    pub node: String,
    pub text: String,
}

/// Why the testbed could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TestbedError {
    let what = what.into();
    move |source| TestbedError::Io { what, source }
}

/// A free UDP port on both loopback addresses (checked, then released for the gateway).
pub fn free_sip_port() -> Result<u16, TestbedError> {
    for _ in 0..50 {
        let a = UdpSocket::bind("127.0.0.1:0").map_err(io("bind 127.0.0.1"))?;
        let port = a.local_addr().map_err(io("local address"))?.port();
        if UdpSocket::bind(("127.0.0.2", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(TestbedError::Setup(
        "no UDP port free on both 127.0.0.1 and 127.0.0.2".into(),
    ))
}

impl Node {
    /// Creates `dir` with a sim card of 2 FXS + 2 FXO ports (as the shipped sim board)
    /// and the board profile pointing at it.
    pub fn prepare(name: &str, dir: &Path, sip: SocketAddr) -> Result<Node, TestbedError> {
        use PortKind::{Fxo, Fxs};
        Node::prepare_ports(name, dir, sip, &[Fxs, Fxs, Fxo, Fxo])
    }

    /// As [`Node::prepare`], with a card of these ports.
    pub fn prepare_ports(
        name: &str,
        dir: &Path,
        sip: SocketAddr,
        ports: &[PortKind],
    ) -> Result<Node, TestbedError> {
        std::fs::create_dir_all(dir.join("board")).map_err(io(dir.display().to_string()))?;
        std::fs::write(dir.join("board/sim.toml"), sim_board(dir, ports))
            .map_err(io("board profile"))?;
        let card = std::sync::Arc::new(
            SimCard::start(SimConfig::new(ports.to_vec(), dir)).map_err(io("simulated card"))?,
        );
        Ok(Node {
            name: name.into(),
            sip,
            dir: dir.to_path_buf(),
            card,
            child: None,
            log: Arc::new(Mutex::new(Vec::new())),
            echo: false,
            env: Vec::new(),
            runner: Vec::new(),
        })
    }

    /// The gateway process's id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Echo the gateway's log to our stderr as it comes.
    pub fn echo(&mut self, on: bool) {
        self.echo = on;
    }

    /// Sets an environment variable for the gateway process (before [`Node::start`]).
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.into(), value.into()));
    }

    /// Runs the gateway binary through this command (program and arguments, the binary's
    /// path appended) instead of executing it directly: an emulator such as
    /// `qemu-aarch64` when the binary is for another architecture and the kernel has no
    /// binfmt_misc entry to run it (before [`Node::start`]).
    pub fn runner(&mut self, command: &[String]) {
        self.runner = command.to_vec();
    }

    /// Starts `tipring run` (the binary `exe`) with `config`, seeded with `seed` (its SIP
    /// identifiers are then predictable: a test knob).
    pub fn start(&mut self, exe: &Path, config: &str, seed: u64) -> Result<(), TestbedError> {
        self.start_with(exe, config, Some(seed))
    }

    /// Starts `tipring run` as deployed: identifiers from the OS random number generator.
    pub fn start_unseeded(&mut self, exe: &Path, config: &str) -> Result<(), TestbedError> {
        self.start_with(exe, config, None)
    }

    fn start_with(
        &mut self,
        exe: &Path,
        config: &str,
        seed: Option<u64>,
    ) -> Result<(), TestbedError> {
        let path = self.dir.join("tipring.toml");
        std::fs::write(&path, config).map_err(io("configuration"))?;
        let mut command = match self.runner.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut shown = self.runner.join(" ");
        if !shown.is_empty() {
            shown.push(' ');
        }
        shown.push_str(&format!("{} run", exe.display()));
        command
            .arg("run")
            .arg("--config")
            .arg(&path)
            .arg("--board-dir")
            .arg(self.dir.join("board"));
        if let Some(seed) = seed {
            command.arg("--seed").arg(seed.to_string());
        }
        let mut child = command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| {
                // What an ARM binary started directly gets under qemu-user when the
                // kernel has no binfmt_misc entry for it.
                if source.raw_os_error() == Some(nix::errno::Errno::ENOEXEC as i32) {
                    shown.push_str(" (a binary for another architecture? the demo's `--runner qemu-aarch64` starts it through an emulator)");
                }
                TestbedError::Io {
                    what: shown,
                    source,
                }
            })?;
        if let Some(err) = child.stderr.take() {
            let (log, name, echo) = (self.log.clone(), self.name.clone(), self.echo);
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("{name}: {line}");
                    }
                    if let Ok(mut l) = log.lock() {
                        l.push((Instant::now(), line));
                    }
                }
            });
        }
        self.child = Some(child);
        Ok(())
    }

    /// Waits for the card's link to the gateway's driver.
    pub fn wait_link(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.card.lock().link_up {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Waits up to `timeout` for the gateway process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(Ok(Some(s))) = self.child.as_mut().map(Child::try_wait) {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether the gateway process still runs.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; kills it after that.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// The log so far.
    pub fn lines(&self) -> Vec<LogLine> {
        self.log
            .lock()
            .map(|l| {
                l.iter()
                    .map(|(at, t)| LogLine {
                        at: *at,
                        node: self.name.clone(),
                        text: t.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The configuration of a testbed gateway: SIP on `sip` (UDP), calls to numbers sent to
/// `peer`, the given `[[ports]]` tables and dial plans; every loopback peer trusted.
pub fn config(sip: SocketAddr, peer: SocketAddr, ports: &str) -> String {
    Conf::new(sip)
        .user_agent("tipring-testbed")
        .account("peer", &format!("proxy = \"sip:{peer}\""))
        .ports(ports)
        .trust("127.0.0.0/8")
        .render()
}

/// A temporary directory for one testbed, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Result<TempDir, TestbedError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let d = std::env::temp_dir().join(format!("{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&d).map_err(io(d.display().to_string()))?;
        Ok(TempDir(d))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
