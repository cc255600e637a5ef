//! The simulator's end of the serial line: a pseudo-terminal whose slave path the driver
//! opens like a real UART. A stable symlink always points at the current slave, so after a
//! simulated cable pull (PTY closed, a new one opened) the driver finds the new device.

use nix::pty::openpty;
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// An open PTY pair; the simulator reads and writes the master.
pub struct SimPty {
    pub master: File,
    /// Held open so the master never sees a hang-up while the driver reopens the slave.
    _slave: OwnedFd,
    /// The slave device, e.g. `/dev/pts/7`.
    pub slave_path: PathBuf,
}

impl SimPty {
    /// Opens a PTY in raw mode (no echo, no line editing, 8 bits clean).
    pub fn open() -> io::Result<Self> {
        let pair = openpty(None, None).map_err(io::Error::from)?;
        let mut t = tcgetattr(pair.slave.as_fd()).map_err(io::Error::from)?;
        cfmakeraw(&mut t);
        tcsetattr(pair.slave.as_fd(), SetArg::TCSANOW, &t).map_err(io::Error::from)?;
        let slave_path = nix::unistd::ttyname(pair.slave.as_fd()).map_err(io::Error::from)?;
        // Never block on a full buffer while no driver reads: frames are dropped instead
        // and the link retransmits.
        use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
        use std::os::fd::AsRawFd;
        // Not inherited by processes the host spawns (a gateway started by a test or the
        // demo would otherwise keep the PTY alive through a simulated cable pull).
        for fd in [pair.master.as_raw_fd(), pair.slave.as_raw_fd()] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(io::Error::from)?;
        }
        fcntl(
            pair.master.as_raw_fd(),
            FcntlArg::F_SETFL(OFlag::O_NONBLOCK),
        )
        .map_err(io::Error::from)?;
        Ok(SimPty {
            master: File::from(pair.master),
            _slave: pair.slave,
            slave_path,
        })
    }

    /// Points `link` at this PTY's slave, atomically (symlink to a temporary name, rename).
    pub fn publish(&self, link: &Path) -> io::Result<()> {
        let tmp = link.with_extension("tmp-link");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&self.slave_path, &tmp)?;
        std::fs::rename(&tmp, link)
    }

    /// Waits up to `timeout_ms` for the master to become readable.
    pub fn wait_readable(&self, timeout_ms: u16) -> io::Result<bool> {
        use nix::poll::{PollFd, PollFlags, poll};
        let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
        let n = poll(&mut fds, timeout_ms).map_err(io::Error::from)?;
        Ok(n > 0
            && fds[0]
                .revents()
                .is_some_and(|r| r.contains(PollFlags::POLLIN)))
    }
}
