//! One `tipring run` process with its own simulated line card of any number of ports
//! (hosted in the bench process), in its own scratch directory: board profile, config,
//! card PTY and audio sockets, and the gateway's log.

use crate::sip;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::config::Conf;
use testkit::testbed::{self, TempDir};
use tipring_hal::model::PortKind;
use tipring_hal::sim::{SimCard, SimConfig};

/// The gateway binary.
pub const EXE: &str = env!("CARGO_BIN_EXE_tipring");

/// A scratch directory, removed on drop.
pub fn scratch(tag: &str) -> Result<TempDir, String> {
    TempDir::new(tag).map_err(|e| e.to_string())
}

/// A free UDP port on the loopback addresses (released for the gateway to take).
pub fn free_port() -> Result<u16, String> {
    testbed::free_sip_port().map_err(|e| e.to_string())
}

/// FXS ports `0..n` numbered `first`, `first + 1`, ..., dialling by the `ext` plan.
pub fn fxs_ports(n: usize, first: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[ports]]\nindex = {i}\nkind = \"fxs\"\nnumber = \"{}\"\ndial_plan = \"ext\"\n\n",
                first + i as u32
            )
        })
        .collect()
}

/// A gateway configuration: SIP (UDP) on `sip`, calls sent to `proxy` if given, these
/// `[[ports]]`, the `ext` digit map and a 1 s short interdigit timer.
pub fn config(sip: SocketAddr, proxy: Option<SocketAddr>, ports: &str) -> String {
    let conf = Conf::new(sip).user_agent("tipring-bench");
    let conf = match proxy {
        Some(p) => conf.account("far", &format!("proxy = \"sip:{p}\"")),
        None => conf,
    };
    conf.ports(ports)
        .trust("127.0.0.0/8")
        .table("[limits]\nwire_log_per_s = 1000000")
        .render()
}

/// The `tipring` binary to run: `TIPRING_EXE` when set (another build, e.g. main's, for a
/// before/after figure), else the one cargo built with the bench.
pub fn exe() -> String {
    std::env::var("TIPRING_EXE").unwrap_or_else(|_| EXE.to_owned())
}

/// A running gateway and its card.
pub struct Rig {
    pub name: String,
    pub sip: SocketAddr,
    pub card: std::sync::Arc<SimCard>,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Rig {
    /// Starts the card and `tipring run`; returns once the card link is up and the SIP
    /// side answers an OPTIONS.
    pub fn start(
        name: &str,
        dir: &Path,
        sip: SocketAddr,
        kinds: &[PortKind],
        config: &str,
    ) -> Result<Rig, String> {
        let bad = |what: &str| {
            let what = format!("{name}: {what}");
            move |e: std::io::Error| format!("{what}: {e}")
        };
        std::fs::create_dir_all(dir.join("board")).map_err(bad("directory"))?;
        std::fs::write(dir.join("board/sim.toml"), testbed::sim_board(dir, kinds))
            .map_err(bad("board"))?;
        std::fs::write(dir.join("tipring.toml"), config).map_err(bad("config"))?;
        let card = std::sync::Arc::new(
            SimCard::start(SimConfig::new(kinds.to_vec(), dir)).map_err(bad("sim card"))?,
        );
        let log = std::fs::File::create(dir.join("gateway.log")).map_err(bad("log"))?;
        let child = Command::new(exe())
            .arg("run")
            .arg("--config")
            .arg(dir.join("tipring.toml"))
            .arg("--board-dir")
            .arg(dir.join("board"))
            .arg("--seed")
            .arg("7")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(bad("tipring run"))?;
        let mut rig = Rig {
            name: name.into(),
            sip,
            card,
            dir: dir.to_path_buf(),
            child: Some(child),
        };
        let end = Instant::now() + Duration::from_secs(15);
        while !rig.card.lock().link_up {
            if Instant::now() > end || !rig.running() {
                return Err(format!("{name}: card link never came up\n{}", rig.tail(20)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if !sip::answers_options(sip, Duration::from_secs(10)) {
            return Err(format!("{name}: no answer to OPTIONS\n{}", rig.tail(20)));
        }
        Ok(rig)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The last `n` lines of the gateway's log.
    pub fn tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join("gateway.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| format!("    {}: {l}\n", self.name))
            .collect()
    }

    /// SIGTERM, then waits (kills after 8 s).
    pub fn stop(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        if let Ok(pid) = i32::try_from(c.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let end = Instant::now() + Duration::from_secs(8);
        while Instant::now() < end {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
