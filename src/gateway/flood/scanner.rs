//! Known SIP scanners recognised by their User-Agent header (RFC 3261 §20.41) on the raw
//! bytes, before the message is parsed: sipvicious's `friendly-scanner`, sipcli, sip-scan…
//! A scanner can change its User-Agent; this only sheds the common, noisy ones cheaply.

/// Matches User-Agent values against lower-case substrings.
#[derive(Debug, Clone, Default)]
pub struct Scanners {
    needles: Vec<Vec<u8>>,
}

impl Scanners {
    /// Matches any of `names` (case-insensitive substrings); empty: matches nothing.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        Scanners {
            needles: names
                .iter()
                .map(|n| n.as_ref().trim().to_ascii_lowercase().into_bytes())
                .filter(|n| !n.is_empty())
                .collect(),
        }
    }

    /// Whether the message's User-Agent header names a scanner. Only the header section
    /// is looked at; a message without User-Agent never matches.
    pub fn matches(&self, msg: &[u8]) -> bool {
        if self.needles.is_empty() {
            return false;
        }
        let Some(value) = user_agent(msg) else {
            return false;
        };
        let value = value.to_ascii_lowercase();
        self.needles
            .iter()
            .any(|n| value.windows(n.len()).any(|w| w == n.as_slice()))
    }
}

/// The value of the first User-Agent header line (no compact form, §7.3.3).
fn user_agent(msg: &[u8]) -> Option<&[u8]> {
    const NAME: &[u8] = b"user-agent";
    for line in msg.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(NAME) {
            return Some(line[colon + 1..].trim_ascii());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_SCANNERS;

    fn msg(ua: &str) -> Vec<u8> {
        format!(
            "OPTIONS sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n\
             {ua}Call-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn known_scanners_match_whatever_the_case() {
        let s = Scanners::new(DEFAULT_SCANNERS);
        assert!(s.matches(&msg("User-Agent: friendly-scanner\r\n")));
        assert!(s.matches(&msg("user-agent:   SIPVicious 0.3.4\r\n")));
        assert!(s.matches(&msg("USER-AGENT: sipcli/v1.8\r\n")));
    }

    #[test]
    fn other_agents_and_bodies_do_not_match() {
        let s = Scanners::new(DEFAULT_SCANNERS);
        assert!(!s.matches(&msg("User-Agent: tipring/0.1\r\n")));
        assert!(!s.matches(&msg("")));
        // A scanner name in another header or in the body is not a User-Agent.
        assert!(!s.matches(&msg("Subject: friendly-scanner\r\n")));
        let mut with_body = msg("");
        with_body.extend_from_slice(b"User-Agent: friendly-scanner\r\n");
        assert!(!s.matches(&with_body));
        // An empty list matches nothing.
        assert!(!Scanners::new::<&str>(&[]).matches(&msg("User-Agent: friendly-scanner\r\n")));
    }

    proptest::proptest! {
        /// Network bytes, whatever they are: no panic, and a match only where a header
        /// line of the head names a scanner.
        #[test]
        fn any_bytes_are_judged_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let s = Scanners::new(DEFAULT_SCANNERS);
            if s.matches(&bytes) {
                let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
                proptest::prop_assert!(text.contains("user-agent"));
            }
        }

        /// Whatever headers come before it, a scanner's User-Agent line is found.
        #[test]
        fn a_scanner_line_is_found_among_other_headers(
            before in proptest::collection::vec("[A-Za-z-]{1,12}: [ -~]{0,40}", 0..8),
            name in proptest::sample::select(DEFAULT_SCANNERS),
        ) {
            // Only the first User-Agent counts: the others must not be one.
            proptest::prop_assume!(!before.iter().any(|h| h.to_ascii_lowercase().starts_with("user-agent:")));
            let headers: String = before.iter().map(|h| format!("{h}\r\n")).collect();
            let ua = format!("{headers}User-Agent: X {name} 1.0\r\n");
            proptest::prop_assert!(Scanners::new(DEFAULT_SCANNERS).matches(&msg(&ua)));
        }
    }
}
