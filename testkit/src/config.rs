//! The one builder of gateway configuration files for tests, benches and the demo: a
//! `tipring run` on the sim board with SIP over UDP (and TCP/TLS) at one address, the `ext`
//! dial plan (`[1-8]xx`, or `9` and anything, closed by the 1 s short interdigit timer),
//! and whatever accounts, ports, trusted peers and further tables a caller adds.

use std::net::SocketAddr;
use std::path::Path;

/// A gateway configuration, rendered by [`Conf::render`].
pub struct Conf {
    listen: SocketAddr,
    /// `None`: the gateway's default product (`tipring/<version>`).
    user_agent: Option<String>,
    accounts: String,
    ports: String,
    trusted: Vec<String>,
    timers: String,
    security: String,
    /// Further listeners at the SIP address (`tcp`, `tls`).
    streams: Vec<String>,
    /// `[identity.tls]` fields.
    tls: String,
    /// Further tables, verbatim (`[limits]`, `[media]`).
    tables: String,
}

impl Conf {
    /// SIP (UDP) on `listen`; no account, no port, no trusted peer yet.
    pub fn new(listen: SocketAddr) -> Conf {
        Conf {
            listen,
            user_agent: Some("tipring-test".into()),
            accounts: String::new(),
            ports: String::new(),
            trusted: Vec::new(),
            timers: String::new(),
            security: String::new(),
            streams: Vec::new(),
            tls: String::new(),
            tables: String::new(),
        }
    }

    /// The `User-Agent` it sends.
    pub fn user_agent(mut self, name: &str) -> Conf {
        self.user_agent = Some(name.into());
        self
    }

    /// Sends the gateway's default product (`tipring/<version>`): no `user_agent`.
    pub fn default_product(mut self) -> Conf {
        self.user_agent = None;
        self
    }

    /// Also listens on TCP at the SIP address (an account with `transport = "tcp"`).
    pub fn tcp(mut self) -> Conf {
        self.streams.push("tcp".into());
        self
    }

    /// Also listens on TLS at the SIP address with these PEM files (`[identity.tls]`).
    pub fn tls(mut self, cert: &Path, key: &Path, ca: &Path) -> Conf {
        self.streams.push("tls".into());
        self.tls = format!(
            "[identity.tls]\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\n\n",
            cert.display(),
            key.display(),
            ca.display()
        );
        self
    }

    /// Adds an `[[accounts]]` table given by its fields (`name` is set here).
    pub fn account(mut self, name: &str, fields: &str) -> Conf {
        self.accounts += &format!("[[accounts]]\nname = \"{name}\"\n{fields}\n");
        self
    }

    /// Adds `[[ports]]` tables.
    pub fn ports(mut self, ports: &str) -> Conf {
        self.ports += ports;
        self
    }

    /// Trusts an address or CIDR block for calls toward the FXO lines.
    pub fn trust(mut self, who: &str) -> Conf {
        self.trusted.push(format!("\"{who}\""));
        self
    }

    /// Trusts an address or CIDR block only over `transport` (`tcp`, `tls`, `udp`).
    pub fn trust_bound(mut self, who: &str, transport: &str) -> Conf {
        self.trusted.push(format!(
            "{{ address = \"{who}\", transport = \"{transport}\" }}"
        ));
        self
    }

    /// Extra `[timers]` fields.
    pub fn timers(mut self, fields: &str) -> Conf {
        self.timers += fields;
        self
    }

    /// Extra `[security]` fields (inbound credentials, realm, algorithms).
    pub fn security(mut self, fields: &str) -> Conf {
        self.security += fields;
        self
    }

    /// Further tables (`[limits]`, `[media]`), appended verbatim.
    pub fn table(mut self, text: &str) -> Conf {
        self.tables += text;
        self.tables += "\n";
        self
    }

    /// The configuration file's text.
    pub fn render(&self) -> String {
        format!(
            "board = \"sim\"\n\n[identity]\n{user_agent}\n[[identity.listen]]\n\
             transport = \"udp\"\naddress = \"{listen}\"\n\n{streams}{tls}{accounts}\n{ports}\n\
             [dial_plans]\next = \"{{ [1-8]xx | 9x. T }}\"\n\n[timers]\ninterdigit_short_ms = 1000\n\
             {timers}\n\n[security]\ntrusted_peers = [{trusted}]\n{security}\n{tables}",
            listen = self.listen,
            user_agent = self
                .user_agent
                .as_ref()
                .map(|u| format!("user_agent = \"{u}\"\n"))
                .unwrap_or_default(),
            streams = self
                .streams
                .iter()
                .map(|t| format!(
                    "[[identity.listen]]\ntransport = \"{t}\"\naddress = \"{}\"\n\n",
                    self.listen
                ))
                .collect::<String>(),
            tls = self.tls,
            accounts = self.accounts,
            ports = self.ports,
            timers = self.timers,
            trusted = self.trusted.join(", "),
            security = self.security,
            tables = self.tables,
        )
    }
}
