//! Kamailio (Debian `kamailio`) started by a test in the foreground on one loopback
//! address, in one of the roles the seed's call flows need (§5.2 proxy, §5.3 registrar,
//! redirect server and proxies). Every request it receives and every reply it relays is
//! written to its log by `xlog` as `tipring-test: ...`, so tests assert on what crossed the
//! server, not on what tipring says it did.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the Kamailio instance does with requests.
#[derive(Debug, Clone)]
pub enum Role {
    /// Registrar with digest authentication (password `password` for every user) that also
    /// proxies initial requests for its own domain to the registered contacts
    /// (`lookup("location")`), and everything else by Request-URI.
    Registrar {
        password: String,
        record_route: bool,
    },
    /// Stateful proxy relaying by Request-URI, or to `next_hop` when set; with
    /// `follow_redirects`, a 3xx from the next hop is recursed on (`get_redirects`).
    Proxy {
        record_route: bool,
        next_hop: Option<SocketAddr>,
        follow_redirects: bool,
    },
    /// Redirect server: every INVITE is answered 302 with `Contact: <target>`.
    Redirect { target: String },
    /// Load balancer in front of gateways (the `dispatcher` module): initial INVITEs go to
    /// the `gateways` in turn (round robin), record-routed; each gateway is probed with
    /// OPTIONS every `probe_s` seconds and left out after one failed probe until one
    /// succeeds again; an INVITE a gateway does not answer within 2 s (or answers 408, 503,
    /// or 486: all its lines busy) goes to the next one.
    Dispatcher {
        gateways: Vec<SocketAddr>,
        probe_s: u32,
    },
    /// Record-routing proxy to `next_hop` that enforces session timers (RFC 4028 §8.1): an
    /// INVITE asking a Session-Expires below `min_se` is answered 422 with `Min-SE:
    /// min_se`; the dialogs of the others are tracked with their session timers (the
    /// `dialog` and `sst` modules), and logged.
    SessionTimerProxy { next_hop: SocketAddr, min_se: u32 },
}

/// A Kamailio in the foreground, killed on drop.
pub struct Kamailio {
    child: Option<Child>,
    log: PathBuf,
    pub addr: SocketAddr,
}

/// Debian's module directory for this machine's architecture.
fn module_dir() -> String {
    let arch = Command::new("dpkg-architecture")
        .arg("-qDEB_HOST_MULTIARCH")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| format!("{}-linux-gnu", std::env::consts::ARCH));
    format!("/usr/lib/{arch}/kamailio/modules/")
}

fn script(addr: SocketAddr, role: &Role, dir: &std::path::Path) -> String {
    let rr = |on: bool| if on { "record_route();" } else { "" };
    let initial = match role {
        Role::Registrar {
            password,
            record_route,
        } => format!(
            r#"    if (is_method("REGISTER")) {{
        $var(pw) = "{password}";
        if (!pv_auth_check("$fd", "$var(pw)", "0", "0")) {{
            xlog("L_NOTICE", "tipring-test: challenge $fu\n");
            auth_challenge("$fd", "1");
            exit;
        }}
        xlog("L_NOTICE", "tipring-test: authenticated $fu expires $hdr(Expires)\n");
        if (!save("location")) {{ sl_reply_error(); }}
        exit;
    }}
    {rr}
    if (uri == myself) {{
        if (!lookup("location")) {{
            xlog("L_NOTICE", "tipring-test: not registered $rU\n");
            sl_send_reply("404", "Not Found");
            exit;
        }}
        xlog("L_NOTICE", "tipring-test: located $rU at $ru\n");
    }}
    t_on_reply("LOG");
    if (!t_relay()) {{ sl_reply_error(); }}"#,
            rr = rr(*record_route)
        ),
        Role::Proxy {
            record_route,
            next_hop,
            follow_redirects,
        } => {
            let hop = next_hop
                .map(|h| format!("    $du = \"sip:{h}\";\n"))
                .unwrap_or_default();
            let redir = if *follow_redirects {
                "    t_on_failure(\"REDIRECT\");\n"
            } else {
                ""
            };
            format!(
                "    {rr}\n{hop}{redir}    t_on_reply(\"LOG\");\n    if (!t_relay()) {{ sl_reply_error(); }}",
                rr = rr(*record_route)
            )
        }
        Role::Dispatcher { .. } => r#"    record_route();
    if (!ds_select_dst("1", "4")) {
        xlog("L_NOTICE", "tipring-test: no gateway for $ru\n");
        sl_send_reply("503", "No Gateway");
        exit;
    }
    xlog("L_NOTICE", "tipring-test: dispatched $ru to $du\n");
    t_on_failure("GATEWAY_FAILED");
    t_on_reply("LOG");
    if (!t_relay()) { sl_reply_error(); }"#
            .to_owned(),
        Role::SessionTimerProxy { next_hop, min_se } => format!(
            r#"    if (is_method("INVITE")) {{
        $var(se) = $(hdr(Session-Expires){{s.select,0,;}}{{s.int}});
        if (is_present_hf("Session-Expires") && $var(se) < {min_se}) {{
            xlog("L_NOTICE", "tipring-test: 422 for Session-Expires $var(se)\n");
            append_to_reply("Min-SE: {min_se}\r\n");
            sl_send_reply("422", "Session Interval Too Small");
            exit;
        }}
        xlog("L_NOTICE", "tipring-test: session timer $hdr(Session-Expires) min $hdr(Min-SE)\n");
        setflag(6);
        dlg_manage();
    }}
    record_route();
    $du = "sip:{next_hop}";
    t_on_reply("LOG");
    if (!t_relay()) {{ sl_reply_error(); }}"#
        ),
        Role::Redirect { target } => format!(
            r#"    if (is_method("INVITE")) {{
        xlog("L_NOTICE", "tipring-test: redirect $ru to {target}\n");
        append_to_reply("Contact: <{target}>\r\n");
        sl_send_reply("302", "Moved Temporarily");
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");"#
        ),
    };
    format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:{addr}
listen=tcp:{addr}
mpath="{mpath}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "acc.so"
loadmodule "uac_redirect.so"
{dispatcher}modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 1)
request_route {{
    xlog("L_NOTICE", "tipring-test: $rm $ru from $si:$sp over $pr\n");
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{
            xlog("L_NOTICE", "tipring-test: in-dialog $rm routed\n");
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
{initial}
}}
onreply_route[LOG] {{
    xlog("L_NOTICE", "tipring-test: reply $rs $rr to $rm from $si:$sp\n");
}}
{dispatcher_routes}failure_route[REDIRECT] {{
    if (t_check_status("3[0-9][0-9]")) {{
        xlog("L_NOTICE", "tipring-test: following a redirect\n");
        $du = $null;
        get_redirects("*");
        t_on_reply("LOG");
        t_relay();
    }}
}}
"#,
        mpath = module_dir(),
        dispatcher = extra_modules(addr, role, dir),
        dispatcher_routes = if matches!(role, Role::Dispatcher { .. }) {
            GATEWAY_FAILED
        } else {
            ""
        },
    )
}

/// The dispatcher's failover: a gateway that did not answer (or answered 408, 503) is
/// marked down and the INVITE goes to the next one; one that is busy (486) stays up.
const GATEWAY_FAILED: &str = r#"failure_route[GATEWAY_FAILED] {
    if (t_is_canceled()) { exit; }
    if (t_check_status("408|486|503") || t_branch_timeout()) {
        xlog("L_NOTICE", "tipring-test: gateway $du failed\n");
        if (!t_check_status("486")) { ds_mark_dst("ip"); }
        if (ds_next_dst()) {
            xlog("L_NOTICE", "tipring-test: retried on $du\n");
            t_on_failure("GATEWAY_FAILED");
            t_on_reply("LOG");
            t_relay();
        }
    }
}
"#;

/// The modules a role needs beyond the common ones.
fn extra_modules(addr: SocketAddr, role: &Role, dir: &std::path::Path) -> String {
    match role {
        Role::Dispatcher { gateways, probe_s } => dispatcher_modules(addr, gateways, *probe_s, dir),
        Role::SessionTimerProxy { min_se, .. } => format!(
            "loadmodule \"dialog.so\"\n\
             loadmodule \"sst.so\"\n\
             modparam(\"sst\", \"sst_flag\", 6)\n\
             modparam(\"sst\", \"min_se\", {min_se})\n\
             modparam(\"sst\", \"reject_to_small\", 0)\n"
        ),
        _ => String::new(),
    }
}

/// The `dispatcher` module and its gateway list (written to `dir`).
fn dispatcher_modules(
    addr: SocketAddr,
    gateways: &[SocketAddr],
    probe_s: u32,
    dir: &std::path::Path,
) -> String {
    let list = dir.join("dispatcher.list");
    let entries: String = gateways.iter().map(|g| format!("1 sip:{g}\n")).collect();
    std::fs::write(&list, entries).expect("dispatcher list");
    format!(
        "loadmodule \"dispatcher.so\"\n\
         modparam(\"dispatcher\", \"list_file\", \"{}\")\n\
         modparam(\"dispatcher\", \"flags\", 2)\n\
         modparam(\"dispatcher\", \"ds_ping_interval\", {probe_s})\n\
         modparam(\"dispatcher\", \"ds_probing_mode\", 1)\n\
         modparam(\"dispatcher\", \"ds_probing_threshold\", 1)\n\
         modparam(\"dispatcher\", \"ds_inactive_threshold\", 1)\n\
         modparam(\"dispatcher\", \"ds_ping_from\", \"sip:dispatcher@{addr}\")\n\
         modparam(\"tm\", \"fr_timer\", 2000)\n",
        list.display()
    )
}

impl Kamailio {
    /// Starts Kamailio as `role` on `addr` (UDP), waiting until it serves.
    pub fn start(test: &str, addr: SocketAddr, role: Role) -> Kamailio {
        Kamailio::start_in(test, addr, role, None)
    }

    /// As [`Kamailio::start`], inside the network namespace `netns` when given.
    pub fn start_in(test: &str, addr: SocketAddr, role: Role, netns: Option<&str>) -> Kamailio {
        let dir = std::env::temp_dir().join(format!(
            "tipring-kam-{test}-{}-{}",
            addr.port(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("kamailio.cfg");
        std::fs::write(&path, script(addr, &role, &dir)).expect("write cfg");
        let log = dir.join("log");
        let mut command = match netns {
            // `ip netns exec` execs the program: the child is Kamailio itself.
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "kamailio"]);
                c
            }
            None => Command::new("kamailio"),
        };
        let child = command
            .args(["-DD", "-E", "-f"])
            .arg(&path)
            .arg("-w")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout"))
            .stderr(std::fs::File::create(&log).expect("log"))
            // Its own process group: Kamailio forks workers that outlive a killed main
            // process and keep the sockets; dropping kills the whole group.
            .process_group(0)
            .spawn()
            .expect("kamailio (Debian kamailio) must be installed");
        let k = Kamailio {
            child: Some(child),
            log,
            addr,
        };
        // Ready when the worker logs that it listens.
        let end = Instant::now() + Duration::from_secs(10);
        while !k.log().contains("INFO: <core>") && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        k
    }

    /// The whole log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The xlog lines of our script, in order.
    pub fn lines(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.split_once("tipring-test: ").map(|(_, r)| r.to_owned()))
            .collect()
    }

    /// Waits up to `limit` until it logged a line (as [`Kamailio::lines`] gives them)
    /// starting with `start`.
    pub fn wait_line(&self, start: &str, limit: std::time::Duration) -> bool {
        let end = std::time::Instant::now() + limit;
        while std::time::Instant::now() < end {
            if self.lines().iter().any(|l| l.starts_with(start)) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        crate::process::remove_scratch(self.log.parent());
    }
}
