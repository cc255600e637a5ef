//! A UAC: INVITE, ACK for the 2xx (RFC 3261 §13.2.2.4, sent by the UA core outside the
//! transaction, again for every 2xx retransmission), hold, BYE (§15.1.1); and OPTIONS.

use super::uas::contact_uri;
use super::{Endpoint, EndpointError, Event, sdp};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tipring_sip::builder::MessageBuilder;
use tipring_sip::header::{Contact, HeaderName, Method};
use tipring_sip::message::Message;
use tipring_sip::transaction::{Peer, Transport, TuEvent, TxnId};
use tipring_sip::transport::transport_for;
use tipring_sip::uri::Uri;

/// How a call went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReport {
    /// Provisional status codes received, in order.
    pub provisional: Vec<u16>,
    /// The final status of the INVITE.
    pub final_code: u16,
    /// The final status of the BYE (when the call was answered).
    pub bye_code: Option<u16>,
}

/// The parts of a dialog a UAC needs for ACK and BYE (§12.1.2).
struct Dialog {
    call_id: String,
    from: String,
    to: String,
    remote_target: String,
    peer: Peer,
    cseq: u32,
}

impl Endpoint {
    fn request(
        &mut self,
        method: Method<'_>,
        uri: &str,
        peer: Peer,
        d: &Dialog,
        cseq: u32,
        body: Option<&[u8]>,
    ) -> Result<Vec<u8>, EndpointError> {
        let ruri = Uri::parse(uri).map_err(|e| EndpointError::Bad(format!("{uri}: {e}")))?;
        let local = self.local(peer.transport)?;
        let via = format!(
            "SIP/2.0/{} {local};branch=z9hG4bK{};rport",
            peer.transport.via_token(),
            self.token()
        );
        let b = MessageBuilder::request(method, &ruri)
            .header(HeaderName::Via, via)
            .max_forwards(70)
            .header(HeaderName::From, &d.from)
            .header(HeaderName::To, &d.to)
            .call_id(&d.call_id)
            .cseq(cseq, method)
            .header(
                HeaderName::Contact,
                format!("<{}>", contact_uri(local, peer.transport)),
            );
        Ok(match body {
            Some(b2) => b.body("application/sdp", b2),
            None => b.finish(),
        })
    }

    /// Waits for the final response of `id`, ACKing stray 2xx of `dialog` on the way.
    async fn final_response(
        &mut self,
        id: TxnId,
        ack: Option<(&Arc<[u8]>, Peer)>,
        provisional: &mut Vec<u16>,
    ) -> Result<Vec<u8>, EndpointError> {
        loop {
            match self.next_event(None).await? {
                Some(Event::Response { id: i, bytes }) if i == id => {
                    let code = Message::parse(&bytes)
                        .ok()
                        .and_then(|m| m.status())
                        .unwrap_or(0);
                    if code >= 200 {
                        return Ok(bytes);
                    }
                    provisional.push(code);
                }
                Some(Event::Txn(i, TuEvent::Timeout)) if i == id => {
                    return Err(EndpointError::Timeout);
                }
                Some(Event::Txn(i, TuEvent::TransportError)) if i == id => {
                    return Err(EndpointError::TransportFailure);
                }
                Some(Event::StrayResponse { .. }) => {
                    if let Some((a, p)) = ack {
                        self.send_raw(p, a.clone()).await?;
                    }
                }
                _ => {}
            }
        }
    }

    /// Places a call to `uri` at `target`, holds it for `hold`, then hangs up.
    pub async fn call(
        &mut self,
        target: Peer,
        uri: &str,
        hold: Duration,
    ) -> Result<CallReport, EndpointError> {
        let target = if uri.starts_with("sips:") {
            // A sips: target needs TLS on every hop we control (§26.2.2).
            Peer {
                transport: Transport::Tls,
                ..target
            }
        } else {
            target
        };
        let local = self.local(target.transport)?;
        let mut d = Dialog {
            call_id: format!("{}@tipring", self.token()),
            from: format!("<sip:tipring@{local}>;tag={}", self.token()),
            to: format!("<{uri}>"),
            remote_target: uri.to_string(),
            peer: target,
            cseq: 1,
        };
        let offer = sdp(local, 40002);
        let mut invite = self.request(Method::Invite, uri, target, &d, 1, Some(&offer))?;
        // §18.1.1: too large for UDP, switch to TCP (the Via must say so).
        let peer = transport_for(target, invite.len());
        if peer != target {
            invite = self.request(Method::Invite, uri, peer, &d, 1, Some(&offer))?;
            d.peer = peer;
        }
        let id = self.send_request(invite, d.peer).await?;
        let mut provisional = Vec::new();
        let resp = self.final_response(id, None, &mut provisional).await?;
        let m = Message::parse(&resp).map_err(|e| EndpointError::Bad(e.to_string()))?;
        let final_code = m.status().unwrap_or(0);
        if !(200..300).contains(&final_code) {
            return Ok(CallReport {
                provisional,
                final_code,
                bye_code: None,
            });
        }
        // §12.1.2: the remote target is the Contact of the 2xx; To carries the remote tag.
        if let Some(to) = m.to() {
            d.to = to.to_string();
        }
        if let Some(Contact::Addr(c)) = m.contacts().next() {
            d.remote_target = c.uri.to_string();
        }
        drop(m);
        let ack = self.request(Method::Ack, &d.remote_target.clone(), d.peer, &d, 1, None)?;
        let ack: Arc<[u8]> = ack.into();
        self.send_raw(d.peer, ack.clone()).await?;
        // Hold: every 2xx retransmission (our ACK was lost) gets the ACK again.
        let end = Instant::now() + hold;
        while let Some(ev) = self.next_event(Some(end)).await? {
            if let Event::StrayResponse { .. } = ev {
                self.send_raw(d.peer, ack.clone()).await?;
            }
        }
        d.cseq += 1;
        let bye = self.request(
            Method::Bye,
            &d.remote_target.clone(),
            d.peer,
            &d,
            d.cseq,
            None,
        )?;
        let id = self.send_request(bye, d.peer).await?;
        let resp = self
            .final_response(id, Some((&ack, d.peer)), &mut Vec::new())
            .await?;
        let bye_code = Message::parse(&resp).ok().and_then(|m| m.status());
        Ok(CallReport {
            provisional,
            final_code,
            bye_code,
        })
    }

    /// Sends OPTIONS to `uri` at `target` and returns the final status.
    pub async fn options(&mut self, target: Peer, uri: &str) -> Result<u16, EndpointError> {
        let local = self.local(target.transport)?;
        let d = Dialog {
            call_id: format!("{}@tipring", self.token()),
            from: format!("<sip:tipring@{local}>;tag={}", self.token()),
            to: format!("<{uri}>"),
            remote_target: uri.to_string(),
            peer: target,
            cseq: 1,
        };
        let req = self.request(Method::Options, uri, target, &d, 1, None)?;
        let id = self.send_request(req, target).await?;
        let resp = self.final_response(id, None, &mut Vec::new()).await?;
        Ok(Message::parse(&resp)
            .ok()
            .and_then(|m| m.status())
            .unwrap_or(0))
    }
}
