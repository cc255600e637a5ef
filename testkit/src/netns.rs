//! A home network in network namespaces, for NAT tests: a LAN namespace (the box), a
//! router namespace masquerading the LAN behind its WAN address with nftables, and a WAN
//! namespace (the provider). Nothing leaves the machine: every address is on veth pairs
//! between the three. Removed on drop.
//!
//! ```text
//!   LAN 10.N.1.2/24 ── 10.N.1.1 [router: masquerade] 10.N.2.1 ── 10.N.2.2/24 WAN
//! ```

use std::net::Ipv4Addr;
use std::process::Command;

/// The three namespaces and their addresses.
pub struct NatLab {
    pub lan: String,
    pub router: String,
    pub wan: String,
    /// The LAN interface (inside `lan`).
    pub lan_if: String,
    /// Second octet of every address (`10.N.x.y`).
    pub net: u8,
}

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl NatLab {
    /// Builds the namespaces `{tag}l`, `{tag}r`, `{tag}w` on `10.net.0.0/16`, with the
    /// router's UDP conntrack entries forgotten after `udp_timeout_s` of silence (a home
    /// router's NAT mapping lifetime, shortened). `Err` when this machine cannot
    /// (no root, no nftables).
    pub fn new(tag: &str, net: u8, udp_timeout_s: u32) -> Result<NatLab, String> {
        let lab = NatLab {
            lan: format!("{tag}l"),
            router: format!("{tag}r"),
            wan: format!("{tag}w"),
            lan_if: format!("{tag}l0"),
            net,
        };
        lab.build(udp_timeout_s).inspect_err(|_| lab.remove())?;
        Ok(lab)
    }

    /// `10.net.side.host`.
    pub fn addr(&self, side: u8, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, self.net, side, host)
    }

    /// The box's LAN address.
    pub fn lan_ip(&self) -> Ipv4Addr {
        self.addr(1, 2)
    }

    /// The router's WAN address: where the provider sees the box.
    pub fn public_ip(&self) -> Ipv4Addr {
        self.addr(2, 1)
    }

    /// The provider's address in the WAN.
    pub fn wan_ip(&self) -> Ipv4Addr {
        self.addr(2, 2)
    }

    fn build(&self, udp_timeout_s: u32) -> Result<(), String> {
        let (l, r, w) = (&self.lan, &self.router, &self.wan);
        for ns in [l, r, w] {
            let _ = sh(&["ip", "netns", "del", ns]);
            sh(&["ip", "netns", "add", ns])?;
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
        }
        let (rl, rw, wan_if) = (format!("{r}0"), format!("{r}1"), format!("{w}0"));
        sh(&[
            "ip",
            "link",
            "add",
            &self.lan_if,
            "netns",
            l,
            "type",
            "veth",
            "peer",
            "name",
            &rl,
            "netns",
            r,
        ])?;
        sh(&[
            "ip", "link", "add", &rw, "netns", r, "type", "veth", "peer", "name", &wan_if, "netns",
            w,
        ])?;
        let cidr = |side, host| format!("{}/24", self.addr(side, host));
        sh(&[
            "ip",
            "-n",
            l,
            "addr",
            "add",
            &cidr(1, 2),
            "dev",
            &self.lan_if,
        ])?;
        sh(&["ip", "-n", r, "addr", "add", &cidr(1, 1), "dev", &rl])?;
        sh(&["ip", "-n", r, "addr", "add", &cidr(2, 1), "dev", &rw])?;
        sh(&["ip", "-n", w, "addr", "add", &cidr(2, 2), "dev", &wan_if])?;
        for (ns, dev) in [(l, &self.lan_if), (r, &rl), (r, &rw), (w, &wan_if)] {
            sh(&["ip", "-n", ns, "link", "set", dev, "up"])?;
        }
        self.default_route()?;
        let exec = |ns: &str, args: &[&str]| {
            let mut all = vec!["ip", "netns", "exec", ns];
            all.extend_from_slice(args);
            sh(&all)
        };
        exec(r, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
        // The LAN box is reached from the WAN only through the router's mappings.
        let t = format!("net.netfilter.nf_conntrack_udp_timeout={udp_timeout_s}");
        let ts = format!("net.netfilter.nf_conntrack_udp_timeout_stream={udp_timeout_s}");
        let rules = format!(
            "table ip labnat {{\n  chain postrouting {{\n    type nat hook postrouting priority srcnat;\n    \
             oifname \"{rw}\" masquerade\n  }}\n}}\n\
             table ip labfilter {{\n  chain forwarding {{\n    type filter hook forward priority filter; \
             policy drop;\n    ct state established,related accept\n    \
             iifname \"{rl}\" accept\n  }}\n}}\n"
        );
        let file = std::env::temp_dir().join(format!("{r}.nft"));
        std::fs::write(&file, rules).map_err(|e| e.to_string())?;
        exec(r, &["nft", "-f", &file.to_string_lossy()])?;
        let _ = std::fs::remove_file(&file);
        // The conntrack module is loaded by the rules above: its knobs exist now.
        exec(r, &["sysctl", "-qw", &t])?;
        exec(r, &["sysctl", "-qw", &ts])?;
        Ok(())
    }

    /// The LAN's default route through the router (again after an address change).
    pub fn default_route(&self) -> Result<(), String> {
        let gw = self.addr(1, 1).to_string();
        sh(&[
            "ip", "-n", &self.lan, "route", "replace", "default", "via", &gw,
        ])
    }

    /// Moves the box to LAN address `10.net.1.host` (a new DHCP lease).
    pub fn renumber(&self, host: u8) -> Result<(), String> {
        let old = format!("{}/24", self.lan_ip());
        let new = format!("{}/24", self.addr(1, host));
        sh(&[
            "ip",
            "-n",
            &self.lan,
            "addr",
            "del",
            &old,
            "dev",
            &self.lan_if,
        ])?;
        sh(&[
            "ip",
            "-n",
            &self.lan,
            "addr",
            "add",
            &new,
            "dev",
            &self.lan_if,
        ])?;
        self.default_route()
    }

    /// The router's WAN address moves to `10.net.2.host` (the provider gave the home a new
    /// public address); masquerade's mappings of the old one go with it.
    pub fn renumber_public(&self, host: u8) -> Result<(), String> {
        let dev = format!("{}1", self.router);
        let old = format!("{}/24", self.public_ip());
        let new = format!("{}/24", self.addr(2, host));
        sh(&["ip", "-n", &self.router, "addr", "del", &old, "dev", &dev])?;
        sh(&["ip", "-n", &self.router, "addr", "add", &new, "dev", &dev])
    }

    /// `program args` run inside namespace `ns`, as a command line for a runner.
    pub fn exec_prefix(ns: &str) -> Vec<String> {
        ["ip", "netns", "exec", ns].map(String::from).to_vec()
    }

    fn remove(&self) {
        for ns in [&self.lan, &self.router, &self.wan] {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

impl Drop for NatLab {
    fn drop(&mut self) {
        self.remove();
    }
}
