//! The line side of a gateway, sans-IO: one [`Port`] per configured line, fed what the
//! card, the SIP side and the bridges report and the ports' own deadlines, and drained for
//! the ports' [`Output`]s (str0m's rule: after every input, drain until nothing is left,
//! then sleep until [`Lines::poll_timeout`]).
//!
//! `tipring run`'s runtime carries the outputs out on the card's driver, the SIP side's
//! queue and the bridges' threads ([`super::runtime`]); the whole-gateway simulation
//! (`tests/gateway_sim.rs`) carries the same outputs out on the card's line models, a SIP
//! side in the same thread and bridge engines on virtual time. The log lines about the
//! ports are written here, once for both.

use super::sip_side::PortEvent;
use crate::bridge::Report;
use crate::config::Loaded;
use crate::port::{Input, Output, Port};
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;
use tipring_hal::model::Event;

/// Every port of a gateway.
pub struct Lines {
    ports: BTreeMap<u8, Port>,
    /// Each port's outputs, tagged with the port, in the order they came.
    outputs: VecDeque<(u8, Output)>,
}

impl Lines {
    /// One port per configured line.
    pub fn new(loaded: &Loaded) -> Lines {
        let mut ports: BTreeMap<u8, Port> = loaded
            .config
            .ports
            .iter()
            .map(|p| (p.index, Port::from_config(loaded, p)))
            .collect();
        // What a port does from the start (a bridge listening to an idle line).
        let outputs = ports
            .iter_mut()
            .flat_map(|(i, p)| std::iter::from_fn(|| p.poll_output()).map(|o| (*i, o)))
            .collect();
        Lines { ports, outputs }
    }

    /// The ports, by index.
    pub fn ports(&self) -> impl Iterator<Item = (u8, &Port)> {
        self.ports.iter().map(|(i, p)| (*i, p))
    }

    /// Port `i`.
    pub fn port(&self, i: u8) -> Option<&Port> {
        self.ports.get(&i)
    }

    /// How many ports there are.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// Whether there is no port at all.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// The earliest deadline of any port.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.ports.values().filter_map(Port::poll_timeout).min()
    }

    /// The next output of a port, with the port's index, until none is left.
    pub fn poll_output(&mut self) -> Option<(u8, Output)> {
        self.outputs.pop_front()
    }

    /// An event of the card's port `port`.
    pub fn on_card(&mut self, now: Instant, port: u8, event: Event) {
        if self.ports.contains_key(&port) {
            tracing::info!("port {port}: card {event:?}");
            self.input(now, port, Input::Line(event));
        }
    }

    /// An event of the SIP side.
    pub fn on_sip(&mut self, now: Instant, ev: PortEvent) {
        match ev {
            PortEvent::Call { port, event } => {
                if self.ports.contains_key(&port) {
                    tracing::info!("port {port}: SIP {event:?}");
                    self.input(now, port, Input::Sip(event));
                }
            }
            PortEvent::Media { port, media } => {
                if self.ports.contains_key(&port) {
                    tracing::info!(
                        "port {port}: media {:?} pt {} events {:?} to {}{}",
                        media.law,
                        media.payload_type,
                        media.event_payload_type,
                        media.remote,
                        if media.send {
                            ""
                        } else {
                            " (held: not sending)"
                        }
                    );
                    self.input(now, port, Input::FarMedia(media));
                }
            }
            PortEvent::Join { port, media } => {
                if self.ports.contains_key(&port) {
                    match &media {
                        Some(m) => tracing::info!("port {port}: three-way with {}", m.remote),
                        None => tracing::info!("port {port}: three-way over"),
                    }
                    self.input(now, port, Input::JoinMedia(media));
                }
            }
            PortEvent::Fax { port, fax } => {
                if self.ports.contains_key(&port) {
                    tracing::info!("port {port}: media T.38 to {}", fax.remote);
                    self.input(now, port, Input::FarFax(fax));
                }
            }
            PortEvent::Wire {
                outbound,
                peer,
                summary,
                call_id,
            } => {
                let arrow = if outbound { "->" } else { "<-" };
                let _span = call_id.map(|c| tracing::info_span!("sip", call_id = %c).entered());
                tracing::info!("SIP {arrow} {peer} {summary}");
            }
            PortEvent::Notice(n) => tracing::info!("SIP: {n}"),
            // The call records' business (the runtime's recorder), not the machines'.
            PortEvent::Leg { .. } => {}
            // The runtime's relays', no port's.
            PortEvent::Relay { .. } | PortEvent::Relayed { .. } => {}
        }
    }

    /// A report of port `port`'s running bridge.
    pub fn on_report(&mut self, now: Instant, port: u8, report: Report) {
        if self.ports.contains_key(&port) {
            if report != Report::LineActivity {
                tracing::info!("port {port}: audio {report:?}");
            }
            self.input(now, port, Input::Media(report));
        }
    }

    /// The ports' deadlines due by `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        let due: Vec<u8> = self
            .ports
            .iter()
            .filter(|(_, p)| p.poll_timeout().is_some_and(|d| d <= now))
            .map(|(i, _)| *i)
            .collect();
        for i in due {
            self.input(now, i, Input::Timeout);
        }
    }

    /// Ends every call (BYE, CANCEL or a refusal), puts the lines down, stops the bridges.
    pub fn shutdown(&mut self, now: Instant) {
        let indices: Vec<u8> = self.ports.keys().copied().collect();
        for i in indices {
            self.input(now, i, Input::Shutdown);
        }
    }

    /// Feeds one port and queues its outputs.
    fn input(&mut self, now: Instant, i: u8, input: Input) {
        let Some(p) = self.ports.get_mut(&i) else {
            return;
        };
        p.handle(now, input);
        while let Some(o) = p.poll_output() {
            match &o {
                Output::Card(command) => tracing::info!("port {i}: card <- {command:?}"),
                Output::Sip(intent) => tracing::info!("port {i}: SIP <- {intent:?}"),
                Output::Idle(_) | Output::Media(_) => {}
            }
            self.outputs.push_back((i, o));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::MediaCommand;
    use std::path::PathBuf;

    fn lines() -> Lines {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let loaded = crate::config::load(
            &repo.join("tests/data/config/good.toml"),
            &repo.join("board"),
        )
        .unwrap();
        Lines::new(&loaded)
    }

    fn drain(l: &mut Lines) -> Vec<(u8, Output)> {
        std::iter::from_fn(|| l.poll_output()).collect()
    }

    #[test]
    fn the_sip_side_hears_when_a_line_leaves_idle_and_returns() {
        let mut l = lines();
        let now = Instant::now();
        // Port 0 (FXS, dial plan): off-hook leaves idle, once, and starts the bridge on
        // the line with dial tone.
        l.on_card(now, 0, Event::OffHook);
        let a = drain(&mut l);
        assert!(a.contains(&(0, Output::Idle(false))), "{a:?}");
        assert!(a.contains(&(0, Output::Media(MediaCommand::Start(None)))));
        l.on_timeout(now);
        assert_eq!(drain(&mut l), vec![]);
        // On-hook: idle again, the bridge stopped.
        l.on_card(now, 0, Event::OnHook);
        let a = drain(&mut l);
        assert!(a.contains(&(0, Output::Idle(true))), "{a:?}");
        assert!(a.contains(&(0, Output::Media(MediaCommand::Stop))));
    }

    #[test]
    fn events_for_a_port_not_configured_are_ignored() {
        let mut l = lines();
        l.on_card(Instant::now(), 200, Event::OffHook);
        assert_eq!(drain(&mut l), vec![]);
    }
}
