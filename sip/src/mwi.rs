//! Message summaries (RFC 3842 §5): the `application/simple-message-summary` body of a
//! `message-summary` NOTIFY, saying whether messages wait and how many.
//!
//! ```text
//! Messages-Waiting: yes
//! Message-Account: sip:alice@vmail.example.com
//! Voice-Message: 2/8 (0/2)
//! ```
//!
//! Only what a phone shows is kept: the waiting flag (required, §5.2) and the voice-message
//! counts (optional). Other lines (other message classes, message headers after a blank
//! line, §5.2's extension headers) are skipped. The body is network input: it is bounded
//! and every malformed part is a typed error, never a panic.

/// Longest body read, bytes (a summary is a few lines; servers add message headers).
pub const MAX_SUMMARY: usize = 8192;

/// The counts of one message class: `new/old (urgent_new/urgent_old)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub new: u32,
    pub old: u32,
    pub urgent_new: u32,
    pub urgent_old: u32,
}

/// A parsed summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSummary {
    /// `Messages-Waiting: yes`.
    pub waiting: bool,
    /// `Voice-Message:`, if given.
    pub voice: Option<MessageCounts>,
}

/// Why a body is not a message summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SummaryError {
    #[error("message summary longer than {MAX_SUMMARY} bytes")]
    TooLong,
    #[error("message summary is not UTF-8 text")]
    NotText,
    #[error("message summary has no Messages-Waiting line (RFC 3842 §5.2)")]
    NoStatus,
    #[error("Messages-Waiting is neither yes nor no")]
    BadStatus,
    #[error("Voice-Message counts are not new/old or new/old (urgent_new/urgent_old)")]
    BadCounts,
}

impl MessageSummary {
    /// Parses a summary body.
    pub fn parse(body: &[u8]) -> Result<MessageSummary, SummaryError> {
        if body.len() > MAX_SUMMARY {
            return Err(SummaryError::TooLong);
        }
        let text = std::str::from_utf8(body).map_err(|_| SummaryError::NotText)?;
        let mut waiting = None;
        let mut voice = None;
        for line in text.lines() {
            if line.trim().is_empty() {
                // Message headers may follow (§5.2); the summary is above them.
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "messages-waiting" => {
                    waiting = Some(match value.to_ascii_lowercase().as_str() {
                        "yes" => true,
                        "no" => false,
                        _ => return Err(SummaryError::BadStatus),
                    })
                }
                "voice-message" => voice = Some(counts(value)?),
                _ => {}
            }
        }
        Ok(MessageSummary {
            waiting: waiting.ok_or(SummaryError::NoStatus)?,
            voice,
        })
    }

    /// The body for this summary (a voicemail server's side; tests).
    pub fn emit(&self) -> String {
        let mut s = format!(
            "Messages-Waiting: {}\r\n",
            if self.waiting { "yes" } else { "no" }
        );
        if let Some(c) = self.voice {
            s += &format!(
                "Voice-Message: {}/{} ({}/{})\r\n",
                c.new, c.old, c.urgent_new, c.urgent_old
            );
        }
        s
    }
}

/// `new/old` with an optional `(urgent_new/urgent_old)`.
fn counts(value: &str) -> Result<MessageCounts, SummaryError> {
    let pair = |s: &str| -> Result<(u32, u32), SummaryError> {
        let (a, b) = s.split_once('/').ok_or(SummaryError::BadCounts)?;
        let n = |x: &str| x.trim().parse::<u32>().map_err(|_| SummaryError::BadCounts);
        Ok((n(a)?, n(b)?))
    };
    let (main, urgent) = match value.split_once('(') {
        Some((main, rest)) => {
            let inner = rest
                .trim_end()
                .strip_suffix(')')
                .ok_or(SummaryError::BadCounts)?;
            (main, Some(pair(inner)?))
        }
        None => (value, None),
    };
    let (new, old) = pair(main)?;
    let (urgent_new, urgent_old) = urgent.unwrap_or((0, 0));
    Ok(MessageCounts {
        new,
        old,
        urgent_new,
        urgent_old,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_and_the_short_forms() {
        let body = b"Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\n\
                     Voice-Message: 2/8 (0/2)\r\n";
        assert_eq!(
            MessageSummary::parse(body),
            Ok(MessageSummary {
                waiting: true,
                voice: Some(MessageCounts {
                    new: 2,
                    old: 8,
                    urgent_new: 0,
                    urgent_old: 2
                })
            })
        );
        let s = MessageSummary::parse(b"messages-waiting:NO\n").unwrap();
        assert!(!s.waiting && s.voice.is_none());
        let s = MessageSummary::parse(b"Messages-Waiting: yes\nVoice-Message: 1/0\n").unwrap();
        assert_eq!(s.voice.map(|c| (c.new, c.urgent_new)), Some((1, 0)));
        assert_eq!(MessageSummary::parse(s.emit().as_bytes()), Ok(s));
    }

    #[test]
    fn malformed_summaries_are_named() {
        assert_eq!(
            MessageSummary::parse(b"Voice-Message: 1/0\r\n"),
            Err(SummaryError::NoStatus)
        );
        assert_eq!(
            MessageSummary::parse(b"Messages-Waiting: maybe\r\n"),
            Err(SummaryError::BadStatus)
        );
        for counts in ["1", "a/b", "1/2 (3/4", "1/2 (x/1)", "99999999999/1"] {
            let body = format!("Messages-Waiting: yes\r\nVoice-Message: {counts}\r\n");
            assert_eq!(
                MessageSummary::parse(body.as_bytes()),
                Err(SummaryError::BadCounts),
                "{counts}"
            );
        }
        assert_eq!(
            MessageSummary::parse(&[0xff, 0xfe]),
            Err(SummaryError::NotText)
        );
        assert_eq!(
            MessageSummary::parse(&vec![b'a'; MAX_SUMMARY + 1]),
            Err(SummaryError::TooLong)
        );
        // Lines after the blank line are message headers, not the summary.
        assert_eq!(
            MessageSummary::parse(b"\r\nMessages-Waiting: yes\r\n"),
            Err(SummaryError::NoStatus)
        );
    }
}
