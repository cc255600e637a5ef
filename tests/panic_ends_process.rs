//! A panic in any task or thread ends the process (`tipring::service::panic::install`),
//! so systemd restarts a fresh gateway instead of it going on half-dead while the main
//! loop still feeds the watchdog. Each case runs in a child process (this test binary
//! started again with `PANIC_CHILD` naming the case) and is judged by how it ended.

use std::process::Command;
use std::time::Duration;

const CHILD: &str = "PANIC_CHILD";

/// Runs `case` in a child; its exit status and stderr.
fn child(case: &str) -> (std::process::ExitStatus, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, case)
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The child's side: panics where `PANIC_CHILD` says, then says whether it survived.
#[test]
fn child_entry() {
    let Ok(case) = std::env::var(CHILD) else {
        return;
    };
    let hook = !case.ends_with("-nohook");
    if hook {
        tipring::service::panic::install();
    }
    if case.starts_with("task") {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let t = tokio::spawn(async { panic!("task goes wrong") });
            let _ = t.await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        });
    } else {
        let t = std::thread::spawn(|| panic!("thread goes wrong"));
        let _ = t.join();
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("SURVIVED");
    std::process::exit(0);
}

#[cfg(unix)]
fn aborted(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(6)
}

#[test]
fn a_panicking_tokio_task_ends_the_process() {
    let (status, stderr) = child("task");
    assert!(aborted(status), "{status:?}\n{stderr}");
    assert!(stderr.contains("task goes wrong"), "{stderr}");
    assert!(stderr.contains("the process ends now"), "{stderr}");
    assert!(!stderr.contains("SURVIVED"), "{stderr}");
}

#[test]
fn a_panicking_thread_ends_the_process() {
    let (status, stderr) = child("thread");
    assert!(aborted(status), "{status:?}\n{stderr}");
    assert!(!stderr.contains("SURVIVED"), "{stderr}");
}

#[test]
fn without_the_hook_the_process_would_go_on_half_dead() {
    // What the hook prevents: tokio catches the task's panic, join() the thread's.
    for case in ["task-nohook", "thread-nohook"] {
        let (status, stderr) = child(case);
        assert!(status.success(), "{case}: {status:?}\n{stderr}");
        assert!(stderr.contains("SURVIVED"), "{case}: {stderr}");
    }
}
