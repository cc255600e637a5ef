//! Date (RFC 3261 §20.17): an RFC 1123 date, always in GMT.

use crate::error::Fault;
use std::fmt;

/// A validated `Date` value such as `Sat, 13 Nov 2010 23:29:00 GMT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date<'a>(pub &'a str);

const WKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl<'a> Date<'a> {
    /// `wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"`.
    pub(crate) fn parse(s: &'a str) -> Result<Date<'a>, Fault> {
        let b = s.as_bytes();
        let digits =
            |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let ok = b.len() == 29
            && s.get(..3).is_some_and(|w| WKDAYS.contains(&w))
            && s.get(3..5) == Some(", ")
            && digits(5..7)
            && b[7] == b' '
            && s.get(8..11).is_some_and(|m| MONTHS.contains(&m))
            && b[11] == b' '
            && digits(12..16)
            && b[16] == b' '
            && digits(17..19)
            && b[19] == b':'
            && digits(20..22)
            && b[22] == b':'
            && digits(23..25)
            && b[25] == b' ';
        if !ok {
            return Err(Fault::at("Date is not an RFC 1123 date", s));
        }
        if s.get(26..) != Some("GMT") {
            return Err(Fault::at("Date time zone is not GMT", s));
        }
        Ok(Date(s))
    }
}

impl fmt::Display for Date<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(Date::parse("Sat, 13 Nov 2010 23:29:00 GMT").is_ok());
        assert!(Date::parse("Fri, 01 Jan 2010 16:00:00 EST").is_err());
        assert!(Date::parse("Fri, 01 Jan 2010").is_err());
        assert!(Date::parse("é").is_err());
    }
}
