//! The tokens of an incoming INVITE's `Alert-Info` (RFC 3261 §20.4) that can select a
//! distinctive ring: for each value, an RFC 7462 `urn:alert:…` URN as it is, or the last
//! path segment of any other URI (`<http://127.0.0.1/Bellcore-dr2>` → `bellcore-dr2`), then
//! its `info=` parameter (`;info=alert-internal`, also the bare `info=Bellcore-dr3` some
//! PBXs send). Lower case, at most [`MAX_TOKENS`] of at most [`MAX_TOKEN_LEN`] bytes: the
//! header is the network's, and only ever compared with a port's table.

use tipring_sip::Message;

/// Tokens taken from one INVITE.
pub const MAX_TOKENS: usize = 8;
/// Longest token kept.
pub const MAX_TOKEN_LEN: usize = 128;

/// The `Alert-Info` tokens of `invite`, in order.
pub fn alert_tokens(invite: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for h in invite.headers_named("Alert-Info") {
        for value in split_values(h.value) {
            let (uri, params) = match value.trim().strip_prefix('<') {
                Some(rest) => match rest.split_once('>') {
                    Some((uri, params)) => (Some(uri.trim()), params),
                    None => (None, ""),
                },
                None => (None, value),
            };
            let from_uri = uri.and_then(|u| {
                if u.len() > 10
                    && u.get(..10)
                        .is_some_and(|p| p.eq_ignore_ascii_case("urn:alert:"))
                {
                    Some(u)
                } else {
                    let path = u.split(['?', ';', '#']).next().unwrap_or(u);
                    path.rsplit('/').next().filter(|s| !s.is_empty())
                }
            });
            let info = params.split(';').find_map(|p| {
                let (name, v) = p.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("info")
                    .then(|| v.trim().trim_matches('"'))
            });
            for t in [from_uri, info].into_iter().flatten() {
                if out.len() < MAX_TOKENS && !t.is_empty() && t.len() <= MAX_TOKEN_LEN {
                    out.push(t.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

/// The comma-separated values of a header, commas inside `<…>` or quotes left alone.
fn split_values(v: &str) -> impl Iterator<Item = &str> {
    let (mut depth, mut quoted, mut start) = (0u32, false, 0usize);
    let mut cuts = Vec::new();
    for (i, c) in v.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                cuts.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    cuts.push((start, v.len()));
    cuts.into_iter().map(move |(a, b)| &v[a..b])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(alert_info: &[&str]) -> Vec<String> {
        let mut m = String::from(
            "INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK1\r\n\
             From: <sip:a@127.0.0.2>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: c\r\n\
             CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n",
        );
        for a in alert_info {
            m.push_str(&format!("Alert-Info: {a}\r\n"));
        }
        m.push_str("Content-Length: 0\r\n\r\n");
        alert_tokens(&Message::parse(m.as_bytes()).unwrap())
    }

    #[test]
    fn the_common_forms_give_their_tokens() {
        assert_eq!(
            tokens(&["<http://127.0.0.1/Bellcore-dr2>"]),
            ["bellcore-dr2"]
        );
        assert_eq!(
            tokens(&["<urn:alert:source:internal>"]),
            ["urn:alert:source:internal"]
        );
        assert_eq!(
            tokens(&["<http://www.notused.com>;info=alert-internal;x=1"]),
            ["www.notused.com", "alert-internal"]
        );
        assert_eq!(tokens(&["info=Bellcore-dr3"]), ["bellcore-dr3"]);
        assert_eq!(
            tokens(&["<urn:alert:service:call-waiting>, <urn:alert:priority:high>"]),
            ["urn:alert:service:call-waiting", "urn:alert:priority:high"]
        );
        assert_eq!(
            tokens(&["<http://pbx/ring?x=a,b>", "<sip:ring@pbx;a=b>"]),
            ["ring", "sip:ring@pbx"]
        );
        assert!(tokens(&[]).is_empty());
    }

    #[test]
    fn hostile_values_are_bounded_and_never_panic() {
        let many = vec!["<urn:alert:x>"; 40].join(",");
        assert_eq!(tokens(&[&many]).len(), MAX_TOKENS);
        let long = format!("<http://h/{}>", "d".repeat(1000));
        assert!(tokens(&[&long]).is_empty());
        for odd in [
            "<",
            ">",
            "<>",
            ";info=",
            "\"<,>\"",
            "<<http://a/b>>",
            "urn:alert:",
            "<urn:alert:>",
            "<urné:alert:xyz>",
        ] {
            let _ = tokens(&[odd]);
        }
    }
}
