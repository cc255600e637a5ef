//! Shared by the sipp interop tests: a sipp child process killed on drop, and a tipring
//! endpoint (UAS or UAC) on loopback built on testkit::endpoint.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use testkit::endpoint::Endpoint;
use tipring_sip::transaction::{Peer, TimerConfig, Transport};
use tipring_sip::transport::TransportConfig;

/// A running sipp, killed when dropped (every test path).
pub struct Sipp {
    child: Option<Child>,
    pub dir: PathBuf,
}

/// The directory with the scenario files.
pub fn scenario(name: &str) -> String {
    format!("{}/tests/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

impl Sipp {
    /// Starts `sipp args...` in a fresh working directory named after the test.
    pub fn spawn(test: &str, args: &[&str]) -> Sipp {
        let dir = std::env::temp_dir().join(format!("tipring-sipp-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = std::fs::File::create(dir.join("stdout")).expect("stdout file");
        let err = std::fs::File::create(dir.join("stderr")).expect("stderr file");
        let child = Command::new("sipp")
            .args(args)
            .args([
                "-nostdin",
                "-trace_err",
                "-timeout",
                "60s",
                "-timeout_error",
            ])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("sipp (Debian package sip-tester) must be installed");
        Sipp {
            child: Some(child),
            dir,
        }
    }

    /// Waits for sipp to exit (at most `limit`), polling without blocking the runtime.
    pub async fn wait(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        loop {
            let c = self.child.as_mut().expect("running");
            if let Some(s) = c.try_wait().expect("try_wait") {
                self.child = None;
                return s;
            }
            assert!(
                Instant::now() < end,
                "sipp did not finish in {limit:?}; logs in {:?}",
                self.dir
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// As [`Sipp::wait`], from a test that is not async (the whole-process tests).
    pub fn wait_blocking(&mut self, limit: Duration) -> ExitStatus {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime to wait on")
            .block_on(self.wait(limit))
    }

    /// Waits and asserts that every call succeeded (exit status 0).
    pub async fn expect_success(&mut self, limit: Duration) {
        let s = self.wait(limit).await;
        self.assert_success(s);
    }

    /// As [`Sipp::expect_success`], from a test that is not async.
    pub fn expect_success_blocking(&mut self, limit: Duration) {
        let s = self.wait_blocking(limit);
        self.assert_success(s);
    }

    /// The contents of sipp's file `name` in its working directory (`stderr`, the
    /// `-trace_err` log), empty when there is none.
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    fn assert_success(&self, s: ExitStatus) {
        let err = self.file("stderr");
        let logs: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path().display().to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            s.success(),
            "sipp failed: {s}; stderr: {err}; files: {logs:?}"
        );
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A tipring endpoint on 127.0.0.1 with UDP and TCP on free ports.
pub async fn endpoint() -> Endpoint {
    let any = "127.0.0.1:0".parse().unwrap();
    let cfg = TransportConfig {
        udp: Some(any),
        tcp: Some(any),
        ..TransportConfig::default()
    };
    Endpoint::bind(cfg, TimerConfig::default())
        .await
        .expect("bind")
}

/// sipp's -t value for a transport.
pub fn sipp_transport(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "u1",
        _ => "t1",
    }
}

/// The peer for sipp listening on `port`.
pub fn sipp_peer(t: Transport, port: u16) -> Peer {
    Peer {
        transport: t,
        addr: format!("127.0.0.1:{port}").parse().unwrap(),
    }
}
