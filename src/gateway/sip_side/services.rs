//! A port's phone services as feature codes change them: do-not-disturb, anonymous call
//! rejection and forwarding, kept in the port's slot beside the configured values they
//! replace. They last until the gateway restarts; the configuration gives the values at
//! start.

use super::{SipEvent, SipSide, route};
use crate::call::{CallerInfo, ForwardWhen, Service};
use tipring_hal::model::PortKind;

impl SipSide {
    /// Applies `service` to port `port` and answers the port's machine.
    pub(super) fn set_service(&mut self, port: u8, service: Service) {
        let ok = match self.apply_service(port, &service) {
            Ok(what) => {
                self.notice(format!("port {port}: {what} (feature code)"));
                true
            }
            Err(why) => {
                self.notice(format!("port {port}: feature code refused: {why}"));
                false
            }
        };
        self.call_event(port, SipEvent::ServiceSet(ok));
    }

    fn apply_service(&mut self, port: u8, service: &Service) -> Result<String, String> {
        let kind = self.slots.get(&port).ok_or("no such port")?.port.kind;
        if kind != PortKind::Fxs {
            // Only a phone has services; a line's caller never changes them.
            return Err("not an FXS port".into());
        }
        // A forwarding number becomes the URI a call to it would have (its route).
        let target = match service {
            Service::Forward(_, Some(number)) => {
                let p = &self.slots.get(&port).ok_or("no such port")?.port;
                let out = route::outgoing(
                    &self.cfg,
                    p,
                    number,
                    &CallerInfo::default(),
                    self.local(),
                    self.transport,
                    &self.hosts,
                )
                .map_err(|e| format!("forwarding to {number}: {e}"))?;
                Some(out.request_uri)
            }
            _ => None,
        };
        let p = &mut self.slots.get_mut(&port).ok_or("no such port")?.port;
        Ok(match service {
            Service::DoNotDisturb(on) => {
                p.do_not_disturb = Some(*on);
                format!("do not disturb {}", on_off(*on))
            }
            Service::RejectAnonymous(on) => {
                p.reject_anonymous = Some(*on);
                format!("anonymous call rejection {}", on_off(*on))
            }
            Service::Forward(when, _) => {
                let (slot, name) = match when {
                    ForwardWhen::Always => (&mut p.forward_always, "forward always"),
                    ForwardWhen::Busy => (&mut p.forward_busy, "forward on busy"),
                    ForwardWhen::NoAnswer => (&mut p.forward_no_answer, "forward on no answer"),
                };
                *slot = target.clone();
                match target {
                    Some(t) => format!("{name} to {t}"),
                    None => format!("{name} off"),
                }
            }
        })
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}
