//! Host names learnt from the network: a Record-Route or Contact written as a name (a
//! provider's edge proxy often is) is where the dialog's ACK, BYE and re-INVITEs go, and
//! the UA core resolves nothing itself. A message from one of the accounts' servers or a
//! trusted peer that brings names the gateway does not know is held while they are looked
//! up (RFC 3263, [`crate::gateway::dns`]) and handed to the side with the answers; the
//! driver's loop goes on meanwhile. Bounded: at most [`MAX_LEARNT`] names are ever asked
//! (answered or not), four per message, [`HELD`] messages at once; other sources' names
//! are not looked up at all (a stranger cannot make the box query the DNS).

use crate::config::Config;
use std::collections::HashSet;
use std::net::SocketAddr;
use tipring_sip::transport::Received;
use tipring_sip::ua::HostTable;
use tokio::sync::mpsc;

/// How many names the gateway looks up in its life (beyond the configuration's).
pub const MAX_LEARNT: usize = 64;

/// Messages held at once while their names are looked up.
pub const HELD: usize = 8;

/// A held message with what its names resolved to.
pub struct Learnt {
    pub table: HostTable,
    pub received: Received,
    pub respond_to: tipring_sip::transaction::Peer,
}

/// The names asked so far and the messages coming back.
pub struct Learner {
    asked: HashSet<String>,
    /// One permit per message held.
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    tx: mpsc::Sender<Learnt>,
    pub rx: mpsc::Receiver<Learnt>,
}

impl Default for Learner {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(HELD);
        Learner {
            asked: HashSet::new(),
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(HELD)),
            tx,
            rx,
        }
    }
}

impl Learner {
    /// Holds `r` while the new names it brings are looked up, when it comes from a
    /// `trusted` source; gives it back to be handled now otherwise.
    pub fn hold(
        &mut self,
        r: Received,
        respond_to: tipring_sip::transaction::Peer,
        trusted: bool,
        cfg: &Config,
        hosts: &HostTable,
        local: SocketAddr,
    ) -> Option<(Received, tipring_sip::transaction::Peer)> {
        if !trusted {
            return Some((r, respond_to));
        }
        let names: Vec<String> = crate::gateway::names::learnt(&r.bytes, hosts)
            .into_iter()
            .filter(|n| !self.asked.contains(&n.to_ascii_lowercase()))
            .collect();
        if names.is_empty() || self.asked.len() + names.len() > MAX_LEARNT {
            return Some((r, respond_to));
        }
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            return Some((r, respond_to));
        };
        self.asked
            .extend(names.iter().map(|n| n.to_ascii_lowercase()));
        let (tx, cfg) = (self.tx.clone(), cfg.clone());
        tokio::spawn(async move {
            let _held = permit;
            let found = crate::gateway::names::resolve_names(&cfg, &names, local).await;
            let _ = tx
                .send(Learnt {
                    table: found.table,
                    received: r,
                    respond_to,
                })
                .await;
        });
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tipring_sip::transaction::{Peer, Transport};

    fn cfg() -> Config {
        let board = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
        let text = "board = \"sim\"\n[dns]\nservers = [\"127.0.0.1:9\"]\n[[ports]]\nindex = 0\n\
                    kind = \"fxs\"\nhotline = \"sip:1@192.0.2.1\"\n";
        crate::config::load_str("t.toml", text, &board)
            .expect("valid")
            .config
    }

    fn with_contact(host: &str) -> Received {
        let peer = Peer {
            transport: Transport::Udp,
            addr: "192.0.2.9:5060".parse().unwrap(),
        };
        let bytes = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\n\
             From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:b@{host}>\r\nContent-Length: 0\r\n\r\n"
        );
        Received {
            bytes: bytes.into_bytes(),
            source: peer,
            respond_to: peer,
        }
    }

    #[tokio::test]
    async fn only_trusted_sources_new_names_are_held_and_never_more_than_the_cap() {
        let (c, hosts, local) = (cfg(), HostTable::new(), "127.0.0.1:5060".parse().unwrap());
        let mut l = Learner::default();
        let r = with_contact("edge.example");
        let p = r.respond_to;
        // A stranger's names are not looked up: the message is handled now.
        assert!(l.hold(r, p, false, &c, &hosts, local).is_some());
        // An IP literal needs no lookup.
        assert!(
            l.hold(with_contact("192.0.2.7"), p, true, &c, &hosts, local)
                .is_some()
        );
        // A trusted peer's new name: held, asked once.
        assert!(
            l.hold(with_contact("edge.example"), p, true, &c, &hosts, local)
                .is_none()
        );
        assert!(
            l.hold(with_contact("EDGE.example"), p, true, &c, &hosts, local)
                .is_some()
        );
        // Past the cap (or with every slot held) names are not asked any more.
        let mut held = 1;
        for i in 0..200 {
            if l.hold(
                with_contact(&format!("h{i}.example")),
                p,
                true,
                &c,
                &hosts,
                local,
            )
            .is_none()
            {
                held += 1;
            }
        }
        assert_eq!(held, HELD);
        assert_eq!(l.asked.len(), HELD);
    }
}
