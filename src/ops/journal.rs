//! Call records as structured journal entries: one datagram to journald's native socket
//! per call (the protocol of systemd's "Native Journal Protocol" page: `FIELD=value` lines;
//! a value with a newline as the field name, a newline, its length as a little-endian
//! u64, the bytes and a newline), so that `journalctl -o json TIPRING_CAUSE=no_response`
//! finds them. Sent only when the service's log goes to the journal; a journal that is
//! gone loses the entry, never the call.

use super::record::CallRecord;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// journald's native protocol socket.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// syslog priority of a record: informational (6).
const PRIORITY_INFO: &str = "6";

/// A sender of structured entries.
#[derive(Debug)]
pub struct Journal {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Journal {
    /// Entries to the socket at `path`.
    pub fn new(path: &Path) -> std::io::Result<Journal> {
        Ok(Journal {
            socket: UnixDatagram::unbound()?,
            path: path.to_owned(),
        })
    }

    /// Sends `record` (a full or gone journal loses it: nothing waits).
    pub fn send(&self, record: &CallRecord) -> std::io::Result<()> {
        self.socket.set_nonblocking(true)?;
        self.socket.send_to(&entry(record), &self.path).map(drop)
    }
}

/// The datagram of `record`: the message line, its priority and identifier, each field
/// as `TIPRING_*`, and the whole record as JSON.
pub fn entry(record: &CallRecord) -> Vec<u8> {
    let json = serde_json::to_string(record).unwrap_or_default();
    let fields: [(&str, String); 13] = [
        (
            "MESSAGE",
            format!(
                "call record: port {} {:?} {} -> {}: {} ({}), {:.1} s",
                record.port,
                record.direction,
                record.caller,
                record.called,
                record.cause.as_str(),
                record.sip_code,
                record.duration_s
            ),
        ),
        ("PRIORITY", PRIORITY_INFO.into()),
        ("SYSLOG_IDENTIFIER", "tipring".into()),
        ("TIPRING_CALL_ID", record.call_id.clone()),
        ("TIPRING_PORT", record.port.to_string()),
        (
            "TIPRING_DIRECTION",
            format!("{:?}", record.direction).to_lowercase(),
        ),
        ("TIPRING_CALLER", record.caller.clone()),
        ("TIPRING_CALLED", record.called.clone()),
        ("TIPRING_SIP_CODE", record.sip_code.to_string()),
        ("TIPRING_CAUSE", record.cause.as_str().into()),
        ("TIPRING_DURATION_S", format!("{:.3}", record.duration_s)),
        (
            "TIPRING_MOS",
            record.mos.map(|m| format!("{m:.2}")).unwrap_or_default(),
        ),
        ("TIPRING_RECORD", json),
    ];
    let mut out = Vec::new();
    for (name, value) in fields {
        if value.is_empty() && name == "TIPRING_MOS" {
            continue;
        }
        field(&mut out, name, value.as_bytes());
    }
    out
}

fn field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    if value.contains(&b'\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::record::{Direction, EndCause};

    fn record(caller: &str) -> CallRecord {
        CallRecord {
            call_id: "abc@gw".into(),
            port: 2,
            direction: Direction::Outgoing,
            caller: caller.into(),
            called: "sip:2001@pbx".into(),
            start: "2026-12-03T16:30:30.000Z".into(),
            answer: None,
            end: "2026-12-03T16:30:38.000Z".into(),
            duration_s: 0.0,
            sip_code: 408,
            cause: EndCause::NoResponse,
            codec: None,
            rtp: None,
            mos: None,
        }
    }

    /// The fields of a datagram, read as journald reads them.
    fn parse(mut d: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        while !d.is_empty() {
            let end = d.iter().position(|&b| b == b'\n' || b == b'=').unwrap();
            let name = String::from_utf8(d[..end].to_vec()).unwrap();
            if d[end] == b'=' {
                let nl = d[end..].iter().position(|&b| b == b'\n').unwrap() + end;
                out.push((name, d[end + 1..nl].to_vec()));
                d = &d[nl + 1..];
            } else {
                let len = u64::from_le_bytes(d[end + 1..end + 9].try_into().unwrap()) as usize;
                out.push((name, d[end + 9..end + 9 + len].to_vec()));
                assert_eq!(d[end + 9 + len], b'\n');
                d = &d[end + 10 + len..];
            }
        }
        out
    }

    #[test]
    fn a_record_becomes_searchable_fields() {
        let f = parse(&entry(&record("sip:100@gw")));
        let get = |n: &str| {
            f.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
        };
        assert_eq!(get("TIPRING_CAUSE").as_deref(), Some("no_response"));
        assert_eq!(get("TIPRING_SIP_CODE").as_deref(), Some("408"));
        assert_eq!(get("TIPRING_DIRECTION").as_deref(), Some("outgoing"));
        assert_eq!(get("PRIORITY").as_deref(), Some("6"));
        assert!(get("TIPRING_MOS").is_none());
        let back: CallRecord = serde_json::from_str(&get("TIPRING_RECORD").unwrap()).unwrap();
        assert_eq!(back, record("sip:100@gw"));
    }

    #[test]
    fn a_value_with_a_newline_cannot_forge_a_field() {
        let f = parse(&entry(&record("sip:x@y\nPRIORITY=0")));
        assert_eq!(f.iter().filter(|(k, _)| k == "PRIORITY").count(), 1);
        let caller = f.iter().find(|(k, _)| k == "TIPRING_CALLER").unwrap();
        assert_eq!(caller.1, b"sip:x@y\nPRIORITY=0");
    }

    #[test]
    fn an_entry_reaches_a_datagram_socket() {
        let dir = std::env::temp_dir().join(format!("tipring-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("socket");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        Journal::new(&path)
            .unwrap()
            .send(&record("sip:100@gw"))
            .unwrap();
        let mut buf = vec![0u8; 65_536];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], entry(&record("sip:100@gw")).as_slice());
    }
}
