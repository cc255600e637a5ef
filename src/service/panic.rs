//! A panic anywhere ends the process. Without this a panic in a tokio task or a worker
//! thread (the bridge, the card driver) kills only that task or thread: the gateway goes
//! on half-dead (no SIP, or no audio) while the main loop still feeds the watchdog, so
//! systemd never restarts it. With [`install`] the panic is written to stderr (the
//! journal) and the process aborts; `Restart=on-failure` starts a fresh one.

/// Installs the hook: the default report (message, location, backtrace when enabled),
/// one line naming what happens next, then `abort`.
pub fn install() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        let thread = std::thread::current();
        eprintln!(
            "tipring: panic in thread {}: the process ends now (systemd restarts it)",
            thread.name().unwrap_or("unnamed")
        );
        std::process::abort();
    }));
}
