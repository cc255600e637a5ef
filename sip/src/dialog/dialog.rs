//! One dialog (RFC 3261 §12.1-§12.2): created by the UAC from a 1xx-with-tag or a 2xx
//! (§12.1.2) and by the UAS from the INVITE it answers (§12.1.1); requests inside it take
//! their Request-URI and Route from the route set and remote target (§12.2.1.1).

use crate::builder::MessageBuilder;
use crate::header::{HeaderName, Method};
use crate::message::Message;
use crate::uri::Uri;

/// Why a dialog could not be made from, or refused, a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// A header the dialog needs is missing or does not parse.
    #[error("message has no usable {0} header")]
    Missing(&'static str),
    /// The response that would create a dialog has no To tag (§12.1.2).
    #[error("response has no To tag, so it cannot create a dialog (RFC 3261 §12.1.2)")]
    NoRemoteTag,
    /// The response code does not create a dialog (only 101-299 do, §12.1).
    #[error("status {0} does not create a dialog")]
    NotDialogCreating(u16),
    /// A route or target URI does not parse.
    #[error("stored URI does not parse: {0}")]
    BadUri(String),
}

/// The dialog identifier (§12): Call-ID, local tag and remote tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag (From tag on the UAC side, To tag on the UAS side).
    pub local_tag: String,
    /// The peer's tag; empty for an RFC 2543 peer that sent no From tag (§12.1.1).
    pub remote_tag: String,
}

impl DialogId {
    /// The identifier a received in-dialog request names: its Call-ID, its To tag (ours)
    /// and its From tag (theirs) (§12.2.2).
    pub fn of_request(req: &Message<'_>) -> Option<DialogId> {
        Some(DialogId {
            call_id: req.call_id()?.to_owned(),
            local_tag: req.to()?.tag()?.to_owned(),
            remote_tag: req.from()?.tag().unwrap_or("").to_owned(),
        })
    }

    /// The identifier a received response to our request names: From tag ours, To tag
    /// theirs (§12.1.2).
    pub fn of_response(resp: &Message<'_>) -> Option<DialogId> {
        Some(DialogId {
            call_id: resp.call_id()?.to_owned(),
            local_tag: resp.from()?.tag()?.to_owned(),
            remote_tag: resp.to()?.tag()?.to_owned(),
        })
    }
}

/// Dialog states (§12: early after a provisional response, confirmed after a 2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a 1xx with a To tag; may still be replaced or end with a final non-2xx.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
    /// Ended (BYE, or a final non-2xx for an early dialog).
    Terminated,
}

/// What to do with a received in-dialog request after the remote CSeq check (§12.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteCSeq {
    /// In order: process it.
    Accept,
    /// Lower than the last one: answer 500 (Server Internal Error) (§12.2.2).
    OutOfOrder,
}

/// One dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    local_seq: Option<u32>,
    remote_seq: Option<u32>,
    local_uri: String,
    remote_uri: String,
    remote_target: String,
    route_set: Vec<String>,
    secure: bool,
}

fn contact_uri(m: &Message<'_>) -> Option<String> {
    m.contacts().find_map(|c| match c {
        crate::header::Contact::Addr(a) => Some(a.uri.to_string()),
        crate::header::Contact::Star => None,
    })
}

impl Dialog {
    /// The UAC's dialog from the request it sent and a 101-299 response carrying a To tag
    /// (§12.1.2): the route set is the response's Record-Route in reverse order, the remote
    /// target its Contact, the local sequence number the request's CSeq.
    pub fn uac(request: &Message<'_>, response: &Message<'_>) -> Result<Dialog, DialogError> {
        let code = response.status().ok_or(DialogError::Missing("status"))?;
        if !(101..=299).contains(&code) {
            return Err(DialogError::NotDialogCreating(code));
        }
        let to = response.to().ok_or(DialogError::Missing("To"))?;
        let remote_tag = to.tag().ok_or(DialogError::NoRemoteTag)?;
        let from = request.from().ok_or(DialogError::Missing("From"))?;
        let local_tag = from.tag().ok_or(DialogError::Missing("From tag"))?;
        let call_id = request.call_id().ok_or(DialogError::Missing("Call-ID"))?;
        let cseq = request.cseq().ok_or(DialogError::Missing("CSeq"))?;
        let secure = matches!(request.request_uri(), Some(Uri::Sip(u)) if u.secure);
        let mut route_set: Vec<String> = response.record_routes().map(|r| r.to_string()).collect();
        route_set.reverse();
        // A 1xx without Contact still makes an early dialog; the target stays the
        // Request-URI until a Contact arrives.
        let remote_target = contact_uri(response)
            .or_else(|| request.request_uri().map(|u| u.to_string()))
            .ok_or(DialogError::Missing("Contact"))?;
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_owned(),
                local_tag: local_tag.to_owned(),
                remote_tag: remote_tag.to_owned(),
            },
            state: if code < 200 {
                DialogState::Early
            } else {
                DialogState::Confirmed
            },
            local_seq: Some(cseq.seq),
            remote_seq: None,
            local_uri: from.uri.to_string(),
            remote_uri: to.uri.to_string(),
            remote_target,
            route_set,
            secure,
        })
    }

    /// The UAS's dialog from the request it answers with a 101-299 carrying `local_tag`
    /// (§12.1.1): the route set is the request's Record-Route in order, the remote target its
    /// Contact, the remote sequence number its CSeq; the local sequence number starts empty.
    pub fn uas(
        request: &Message<'_>,
        local_tag: &str,
        confirmed: bool,
    ) -> Result<Dialog, DialogError> {
        let from = request.from().ok_or(DialogError::Missing("From"))?;
        let to = request.to().ok_or(DialogError::Missing("To"))?;
        let call_id = request.call_id().ok_or(DialogError::Missing("Call-ID"))?;
        let cseq = request.cseq().ok_or(DialogError::Missing("CSeq"))?;
        let remote_target = contact_uri(request).ok_or(DialogError::Missing("Contact"))?;
        let secure = matches!(request.request_uri(), Some(Uri::Sip(u)) if u.secure);
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_owned(),
                local_tag: local_tag.to_owned(),
                remote_tag: from.tag().unwrap_or("").to_owned(),
            },
            state: if confirmed {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_seq: None,
            remote_seq: Some(cseq.seq),
            local_uri: to.uri.to_string(),
            remote_uri: from.uri.to_string(),
            remote_target,
            route_set: request.record_routes().map(|r| r.to_string()).collect(),
            secure,
        })
    }

    /// The identifier.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// The state.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// The route set, in the order Route headers are written.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// The remote target (the peer's Contact URI).
    pub fn remote_target(&self) -> &str {
        &self.remote_target
    }

    /// The last local CSeq number used, if any.
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The last remote CSeq number seen, if any.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Whether the dialog was set up with a `sips:` Request-URI (§12.1.1).
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Ends the dialog.
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// The UAC received another response to the dialog-creating INVITE (or a response to a
    /// target-refresh request). A 2xx confirms an early dialog and recomputes its route set
    /// from the 2xx (§13.2.2.4); a Contact in any 1xx/2xx refreshes the remote target
    /// (§12.1.2, §12.2.1.2).
    pub fn on_uac_response(&mut self, response: &Message<'_>, refresh: bool) {
        let code = response.status().unwrap_or(0);
        if self.state == DialogState::Early && (200..=299).contains(&code) && !refresh {
            self.state = DialogState::Confirmed;
            let mut rs: Vec<String> = response.record_routes().map(|r| r.to_string()).collect();
            rs.reverse();
            self.route_set = rs;
        }
        if (101..=299).contains(&code)
            && let Some(t) = contact_uri(response)
        {
            self.remote_target = t;
        }
    }

    /// The UAS sent the 2xx for the dialog-creating INVITE.
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// A request inside this dialog arrived (§12.2.2): checks the remote CSeq (ACK and
    /// CANCEL carry the number of the request they belong to and are not checked), records
    /// it, and refreshes the remote target from the Contact of a target-refresh request
    /// (INVITE, UPDATE: §12.2.2, RFC 3311).
    pub fn on_remote_request(&mut self, request: &Message<'_>) -> RemoteCSeq {
        let Some(cseq) = request.cseq() else {
            return RemoteCSeq::OutOfOrder;
        };
        if matches!(cseq.method, Method::Ack | Method::Cancel) {
            return RemoteCSeq::Accept;
        }
        // Strictly increasing: a new request reusing the last number is a replay (a
        // retransmission is absorbed by its transaction before it gets here).
        if self.remote_seq.is_some_and(|last| cseq.seq <= last) {
            return RemoteCSeq::OutOfOrder;
        }
        self.remote_seq = Some(cseq.seq);
        if matches!(cseq.method, Method::Invite | Method::Update)
            && let Some(t) = contact_uri(request)
        {
            self.remote_target = t;
        }
        RemoteCSeq::Accept
    }

    /// The next local CSeq number (§12.2.1.1: one more than the last; when empty, a first
    /// value chosen by the caller, below 2^31).
    pub fn next_local_seq(&mut self, initial: u32) -> u32 {
        let n = match self.local_seq {
            Some(s) => s.wrapping_add(1),
            None => initial & 0x7fff_ffff,
        };
        self.local_seq = Some(n);
        n
    }

    /// The Request-URI and Route values for a request in this dialog (§12.2.1.1): with an
    /// empty route set, the remote target and no Route; when the first route is a loose
    /// router (`lr`), the remote target and the whole route set; otherwise (a strict router,
    /// RFC 2543) the first route's URI as Request-URI and the rest of the route set followed
    /// by the remote target as Route.
    pub fn request_target(&self) -> Result<(String, Vec<String>), DialogError> {
        let Some(first) = self.route_set.first() else {
            return Ok((self.remote_target.clone(), Vec::new()));
        };
        let na = <crate::header::NameAddr<'_> as crate::header::FromValue>::from_value(first)
            .map_err(|_| DialogError::BadUri(first.clone()))?;
        let loose = match &na.uri {
            Uri::Sip(u) => u.params.has("lr"),
            _ => true,
        };
        if loose {
            return Ok((self.remote_target.clone(), self.route_set.clone()));
        }
        // Parameters not allowed in a Request-URI (the headers component) are dropped.
        let ruri = match na.uri {
            Uri::Sip(mut u) => {
                u.headers = None;
                u.to_string()
            }
            other => other.to_string(),
        };
        let mut routes: Vec<String> = self.route_set[1..].to_vec();
        routes.push(format!("<{}>", self.remote_target));
        Ok((ruri, routes))
    }

    /// Starts a request in this dialog with CSeq number `seq` (§12.2.1.1): request line,
    /// `via`, Max-Forwards, Route, From (local URI and tag), To (remote URI and tag),
    /// Call-ID and CSeq. The caller adds Contact, other headers and the body.
    pub fn request(
        &self,
        method: Method<'_>,
        seq: u32,
        via: &str,
    ) -> Result<MessageBuilder, DialogError> {
        let (ruri, routes) = self.request_target()?;
        let uri = Uri::parse(&ruri).map_err(|_| DialogError::BadUri(ruri.clone()))?;
        let mut b = MessageBuilder::request(method, &uri)
            .header(HeaderName::Via, via)
            .max_forwards(70);
        for r in &routes {
            b = b.header(HeaderName::Route, r);
        }
        let from = format!("<{}>;tag={}", self.local_uri, self.id.local_tag);
        let to = if self.id.remote_tag.is_empty() {
            format!("<{}>", self.remote_uri)
        } else {
            format!("<{}>;tag={}", self.remote_uri, self.id.remote_tag)
        };
        Ok(b.header(HeaderName::From, from)
            .header(HeaderName::To, to)
            .call_id(&self.id.call_id)
            .cseq(seq, method))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@atlanta.example.com>;tag=alice1\r\n\
To: <sip:bob@biloxi.example.com>\r\n\
Call-ID: c1@192.0.2.1\r\n\
CSeq: 314 INVITE\r\n\
Contact: <sip:alice@192.0.2.1:5060>\r\n\
Record-Route: <sip:p2.example.com;lr>\r\n\
Record-Route: <sip:p1.example.com;lr>\r\n\
Content-Length: 0\r\n\r\n";

    fn response(code: u16, tag: Option<&str>, rr: &[&str], contact: Option<&str>) -> Vec<u8> {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let mut b = MessageBuilder::response(code, "X");
        for v in req.via() {
            b = b.via(&v);
        }
        b = b.from(req.from().unwrap());
        b = b.header(
            HeaderName::To,
            match tag {
                Some(t) => format!("<sip:bob@biloxi.example.com>;tag={t}"),
                None => "<sip:bob@biloxi.example.com>".into(),
            },
        );
        b = b.call_id("c1@192.0.2.1").cseq(314, Method::Invite);
        for r in rr {
            b = b.header(HeaderName::RecordRoute, r);
        }
        if let Some(c) = contact {
            b = b.header(HeaderName::Contact, c);
        }
        b.finish()
    }

    #[test]
    fn uac_dialog_from_180_reverses_record_route() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let r = response(
            180,
            Some("bob1"),
            &["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"],
            Some("<sip:bob@192.0.2.4>"),
        );
        let d = Dialog::uac(&req, &Message::parse(&r).unwrap()).unwrap();
        assert_eq!(d.state(), DialogState::Early);
        assert_eq!(d.id().local_tag, "alice1");
        assert_eq!(d.id().remote_tag, "bob1");
        assert_eq!(
            d.route_set(),
            ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        assert_eq!(d.remote_target(), "sip:bob@192.0.2.4");
        assert_eq!(d.local_seq(), Some(314));
        assert_eq!(d.remote_seq(), None);
    }

    #[test]
    fn response_without_to_tag_makes_no_dialog() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let r = response(180, None, &[], None);
        assert_eq!(
            Dialog::uac(&req, &Message::parse(&r).unwrap()),
            Err(DialogError::NoRemoteTag)
        );
        let r = response(100, Some("x"), &[], None);
        assert_eq!(
            Dialog::uac(&req, &Message::parse(&r).unwrap()),
            Err(DialogError::NotDialogCreating(100))
        );
    }

    #[test]
    fn two_hundred_confirms_and_recomputes_route_set() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let r180 = response(180, Some("bob1"), &["<sip:old.example.com;lr>"], None);
        let mut d = Dialog::uac(&req, &Message::parse(&r180).unwrap()).unwrap();
        assert_eq!(d.remote_target(), "sip:bob@biloxi.example.com");
        let r200 = response(
            200,
            Some("bob1"),
            &["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"],
            Some("<sip:bob@192.0.2.4:5070>"),
        );
        d.on_uac_response(&Message::parse(&r200).unwrap(), false);
        assert_eq!(d.state(), DialogState::Confirmed);
        assert_eq!(
            d.route_set(),
            ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        assert_eq!(d.remote_target(), "sip:bob@192.0.2.4:5070");
    }

    #[test]
    fn loose_routing_keeps_remote_target_as_request_uri() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let r = response(
            200,
            Some("bob1"),
            &["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"],
            Some("<sip:bob@192.0.2.4>"),
        );
        let mut d = Dialog::uac(&req, &Message::parse(&r).unwrap()).unwrap();
        let seq = d.next_local_seq(1);
        assert_eq!(seq, 315);
        let bye = d
            .request(
                Method::Bye,
                seq,
                "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb",
            )
            .unwrap()
            .finish();
        let m = Message::parse(&bye).unwrap();
        assert_eq!(m.request_uri().unwrap().to_string(), "sip:bob@192.0.2.4");
        let routes: Vec<String> = m.routes().map(|r| r.to_string()).collect();
        assert_eq!(
            routes,
            ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        assert_eq!(m.from().unwrap().tag(), Some("alice1"));
        assert_eq!(m.to().unwrap().tag(), Some("bob1"));
        assert_eq!(m.cseq().unwrap().seq, 315);
        assert_eq!(m.call_id(), Some("c1@192.0.2.1"));
    }

    #[test]
    fn strict_router_takes_request_uri_and_target_goes_last() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let r = response(
            200,
            Some("bob1"),
            &["<sip:p2.example.com;lr>", "<sip:p1.example.com>"],
            Some("<sip:bob@192.0.2.4>"),
        );
        let d = Dialog::uac(&req, &Message::parse(&r).unwrap()).unwrap();
        let (ruri, routes) = d.request_target().unwrap();
        assert_eq!(ruri, "sip:p1.example.com");
        assert_eq!(routes, ["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.4>"]);
    }

    #[test]
    fn no_route_set_means_no_route_header() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let r = response(200, Some("bob1"), &[], Some("<sip:bob@192.0.2.4>"));
        let d = Dialog::uac(&req, &Message::parse(&r).unwrap()).unwrap();
        let m = d
            .request(Method::Bye, 400, "SIP/2.0/UDP h;branch=z9hG4bKc")
            .unwrap()
            .finish();
        let m = Message::parse(&m).unwrap();
        assert_eq!(m.routes().count(), 0);
        assert_eq!(m.request_uri().unwrap().to_string(), "sip:bob@192.0.2.4");
    }

    #[test]
    fn uas_dialog_keeps_record_route_order_and_checks_remote_cseq() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let mut d = Dialog::uas(&req, "bob9", true).unwrap();
        assert_eq!(
            d.route_set(),
            ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
        );
        assert_eq!(d.remote_target(), "sip:alice@192.0.2.1:5060");
        assert_eq!(d.id().remote_tag, "alice1");
        assert_eq!(d.remote_seq(), Some(314));
        assert_eq!(d.local_seq(), None);
        assert_eq!(d.next_local_seq(0x8000_0007), 7);
        assert_eq!(
            DialogId::of_request(&req),
            None,
            "initial INVITE has no To tag"
        );

        let reinvite = INVITE
            .replace(
                "To: <sip:bob@biloxi.example.com>",
                "To: <sip:bob@biloxi.example.com>;tag=bob9",
            )
            .replace("CSeq: 314", "CSeq: 315")
            .replace("alice@192.0.2.1:5060>", "alice@192.0.2.77:5062>");
        let m = Message::parse(reinvite.as_bytes()).unwrap();
        assert_eq!(DialogId::of_request(&m).as_ref(), Some(d.id()));
        assert_eq!(d.on_remote_request(&m), RemoteCSeq::Accept);
        assert_eq!(
            d.remote_target(),
            "sip:alice@192.0.2.77:5062",
            "target refresh"
        );
        assert_eq!(d.remote_seq(), Some(315));

        let old = reinvite
            .replace("CSeq: 315 INVITE", "CSeq: 200 INFO")
            .replace("INVITE sip:", "INFO sip:");
        assert_eq!(
            d.on_remote_request(&Message::parse(old.as_bytes()).unwrap()),
            RemoteCSeq::OutOfOrder
        );
        let same = reinvite.replace("z9hG4bK", "z9hG4bKreplay");
        assert_eq!(
            d.on_remote_request(&Message::parse(same.as_bytes()).unwrap()),
            RemoteCSeq::OutOfOrder,
            "the same CSeq again"
        );
        let ack = reinvite
            .replace("CSeq: 315 INVITE", "CSeq: 1 ACK")
            .replace("INVITE sip:", "ACK sip:");
        assert_eq!(
            d.on_remote_request(&Message::parse(ack.as_bytes()).unwrap()),
            RemoteCSeq::Accept
        );
        assert_eq!(d.remote_seq(), Some(315));
    }

    #[test]
    fn non_refresh_request_leaves_target() {
        let req = Message::parse(INVITE.as_bytes()).unwrap();
        let mut d = Dialog::uas(&req, "bob9", true).unwrap();
        let info = INVITE
            .replace("CSeq: 314 INVITE", "CSeq: 316 INFO")
            .replace("INVITE sip:", "INFO sip:")
            .replace("alice@192.0.2.1:5060>", "alice@192.0.2.77:5062>");
        assert_eq!(
            d.on_remote_request(&Message::parse(info.as_bytes()).unwrap()),
            RemoteCSeq::Accept
        );
        assert_eq!(d.remote_target(), "sip:alice@192.0.2.1:5060");
    }
}
