//! The systemd deployment files: the unit verifies clean with `systemd-analyze verify`
//! (in a scratch root holding the unit, the built binary as /usr/bin/tipring and a copy of
//! the system's own units), carries the required hardening, the sysusers file is accepted
//! by `systemd-sysusers`, and the default configuration passes `check-config`.
//! Needs the `systemd` Debian package (systemd-analyze, systemd-sysusers).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn unit_text() -> String {
    std::fs::read_to_string(repo().join("systemd/tipring.service")).unwrap()
}

/// A scratch root with the unit, the binary and the distribution's units.
fn scratch_root(tag: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("tipring-systemd-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for d in [
        "usr/bin",
        "etc/systemd/system",
        "usr/lib/systemd",
        "usr/lib/sysusers.d",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(env!("CARGO_BIN_EXE_tipring"), root.join("usr/bin/tipring")).unwrap();
    std::fs::copy(
        repo().join("systemd/tipring.service"),
        root.join("etc/systemd/system/tipring.service"),
    )
    .unwrap();
    let system_units = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .into_iter()
        .find(|p| Path::new(p).join("sysinit.target").exists())
        .expect("no systemd units on this machine: apt-get install -y systemd");
    let st = Command::new("cp")
        .args(["-a", system_units])
        .arg(root.join("usr/lib/systemd/"))
        .status()
        .unwrap();
    assert!(st.success());
    root
}

#[test]
fn unit_verifies_clean() {
    let root = scratch_root("verify");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.display()))
        .arg("tipring.service")
        .output()
        .expect("systemd-analyze missing: apt-get install -y systemd");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{stderr}"
    );
    assert!(
        stderr.trim().is_empty(),
        "systemd-analyze verify warned:\n{stderr}"
    );
}

#[test]
fn verify_catches_a_broken_unit() {
    // The check above can fail: the same run on a unit with a bad directive warns.
    let root = scratch_root("broken");
    let broken = unit_text().replace("Type=notify", "Type=notifyy");
    std::fs::write(root.join("etc/systemd/system/tipring.service"), broken).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.display()))
        .arg("tipring.service")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    assert!(String::from_utf8_lossy(&out.stderr).contains("notifyy"));
}

#[test]
fn unit_has_the_required_settings() {
    let text = unit_text();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for want in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=10",
        "Restart=on-failure",
        "User=tipring",
        "SupplementaryGroups=dialout audio",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "DevicePolicy=closed",
        "DeviceAllow=char-ttyS rw",
        "DeviceAllow=char-alsa rw",
        "ReadWritePaths=/run/tipring /var/lib/tipring",
        "ExecStart=/usr/bin/tipring run --config /etc/tipring/tipring.toml",
        "MemoryMax=64M",
        "TasksMax=64",
    ] {
        assert!(lines.contains(&want), "tipring.service lacks {want:?}");
    }
    assert!(
        !lines.iter().any(|l| l.starts_with("AmbientCapabilities=")),
        "no ambient capabilities by default"
    );
}

#[test]
fn sysusers_file_is_accepted() {
    let root = std::env::temp_dir().join(format!("tipring-sysusers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\ndialout:x:20:\naudio:x:29:\n",
    )
    .unwrap();
    let out = Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.display()))
        .arg("--dry-run")
        .arg(repo().join("systemd/tipring.sysusers"))
        .output()
        .expect("systemd-sysusers missing: apt-get install -y systemd");
    let _ = std::fs::remove_dir_all(&root);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Creating user 'tipring'"), "{stderr}");
    assert!(!stderr.contains("ignoring"), "{stderr}");
}

#[test]
fn default_config_passes_check_config() {
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .arg("check-config")
        .arg(repo().join("systemd/tipring.toml"))
        .arg("--board-dir")
        .arg(repo().join("board"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("tipring.toml: OK"), "{stdout}");
    assert!(stdout.contains("port 2: FXO"), "{stdout}");
    // The secure default: only loopback is trusted toward the FXO lines.
    assert!(
        stdout.contains("trusted peers [127.0.0.0/8, ::1]"),
        "{stdout}"
    );
}
