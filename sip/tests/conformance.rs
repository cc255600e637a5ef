//! RFC 4475 (SIP torture tests) and RFC 5118 (IPv6 torture tests): every file under
//! tests/data is read as bytes and checked against the verdict its RFC section gives.
//! Valid messages must parse and survive serialise -> re-parse semantically unchanged;
//! invalid ones must be rejected (or flagged by `Message::validate`) with the status code
//! a UAS would send. Run with `--nocapture` to see the tally.

use std::path::Path;
use tipring_sip::header::{HeaderName, Typed};
use tipring_sip::{Message, Uri};

/// What the RFC says a message layer (plus the checks a UAS makes on top of it) does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    /// Parses, acted on normally.
    Valid,
    /// Parses; the application answers with this status (RFC 4475 §3.3). `0`: no answer
    /// checked at this layer.
    Application(u16),
    /// Rejected (parse error, or flagged by the full validation) with this status.
    Invalid(u16),
}

fn rfc4475_verdict(name: &str) -> Option<Verdict> {
    use Verdict::*;
    Some(match name {
        // §3.1.1 valid
        "wsinv" | "intmeth" | "esc01" | "escnull" | "esc02" | "lwsdisp" | "longreq" | "dblreq"
        | "semiuri" | "transports" | "mpart01" | "unreason" | "noreason" => Valid,
        // §3.1.2 invalid
        "badinv01" | "clerr" | "ncl" | "scalar02" | "scalarlg" | "quotbal" | "ltgtruri"
        | "lwsruri" | "lwsstart" | "trws" | "escruri" | "baddate" | "regbadct" | "badaspec"
        | "baddn" | "mismatch01" | "mismatch02" | "bigcode" => Invalid(400),
        "badvers" => Invalid(505),
        // §3.2 transaction layer: parses (the RFC 2543 fallback is the transaction layer's)
        "badbranch" => Application(0),
        // §3.3 application layer
        "insuf" | "multi01" => Application(400),
        "mcl01" => Invalid(400),
        "unkscm" | "novelsc" => Application(416),
        "bext01" => Application(420),
        "invut" => Application(415),
        "zeromf" => Application(483),
        "sdp01" => Application(406),
        "unksm2" | "regaut01" | "bcast" | "cparam01" | "cparam02" | "regescrt" => Application(0),
        // §3.4 backward compatibility
        "inv2543" => Valid,
        _ => return None,
    })
}

fn rfc5118_verdict(name: &str) -> Option<Verdict> {
    Some(match name {
        // §4.2: no brackets around the IPv6 reference.
        "ipv6-bad" => Verdict::Invalid(400),
        // §4.10: three colons are not an IPv6 address (the ABNF bug RFC 5954 corrected).
        "ipv6-bug-abnf-3-colons" => Verdict::Invalid(400),
        "ipv6-good"
        | "port-ambiguous"
        | "port-unambiguous"
        | "via-received-param-with-delim"
        | "via-received-param-no-delim"
        | "ipv6-correct-abnf-2-colons"
        | "ipv4-mapped-ipv6"
        | "mult-ip-in-header"
        | "mult-ip-in-sdp"
        | "ipv6-in-sdp" => Verdict::Valid,
        _ => return None,
    })
}

/// The checks a UAS makes above the parser for the RFC 4475 §3.3 cases: the status it
/// would answer with, or 0 when it would proceed.
fn application_status(m: &Message<'_>) -> u16 {
    if m.check_request_headers().is_err() {
        return 400;
    }
    if let Some(uri) = m.request_uri()
        && matches!(uri, Uri::Absolute(_))
    {
        return 416;
    }
    if m.max_forwards() == Some(0) {
        return 483;
    }
    if m.require().any(|t| t != "100rel" && t != "timer") {
        return 420;
    }
    if let Some(ct) = m.content_type()
        && !m.body().is_empty()
        && !ct.is("application", "sdp")
        && ct.mtype != "multipart"
    {
        return 415;
    }
    if let Some(accept) = m.header("Accept")
        && !accept.value.contains("application/sdp")
        && m.method().is_some_and(|x| x.as_str() == "INVITE")
    {
        return 406;
    }
    0
}

/// Semantic equality of two parses: same start line, same headers in order with equal
/// typed values (raw ones equal after folding), same body.
fn same(a: &Message<'_>, b: &Message<'_>) -> Result<(), String> {
    if a.start_line() != b.start_line() {
        return Err(format!(
            "start line {:?} != {:?}",
            a.start_line(),
            b.start_line()
        ));
    }
    if a.headers().len() != b.headers().len() {
        return Err(format!(
            "{} headers != {}",
            a.headers().len(),
            b.headers().len()
        ));
    }
    for (x, y) in a.headers().iter().zip(b.headers()) {
        if x.kind != y.kind || (x.kind == HeaderName::Other && !x.name.eq_ignore_ascii_case(y.name))
        {
            return Err(format!("header {} != {}", x.name, y.name));
        }
        let (tx, ty) = (x.typed(), y.typed());
        let equal = match (&tx, &ty) {
            (Ok(Typed::Raw(_)), Ok(Typed::Raw(_))) => {
                tx.as_ref().map(|t| t.to_string()) == ty.as_ref().map(|t| t.to_string())
            }
            (Ok(p), Ok(q)) => p == q,
            (Err(_), Err(_)) => x.value.split_whitespace().eq(y.value.split_whitespace()),
            _ => false,
        };
        if !equal {
            return Err(format!("{}: {:?} != {:?}", x.name, tx, ty));
        }
    }
    if a.body() != b.body() {
        return Err("body differs".into());
    }
    Ok(())
}

/// Checks one message; returns a description of what went wrong, if anything.
fn check(bytes: &[u8], verdict: Verdict) -> Result<String, String> {
    let parsed = Message::parse(bytes);
    match verdict {
        Verdict::Valid | Verdict::Application(_) => {
            let m = parsed.map_err(|e| format!("rejected: {e}"))?;
            let out = m.to_bytes();
            let again = Message::parse(&out)
                .map_err(|e| format!("re-parse failed: {e}\n{}", String::from_utf8_lossy(&out)))?;
            same(&m, &again)?;
            if let Verdict::Application(code) = verdict {
                let got = application_status(&m);
                if got != code {
                    return Err(format!("application answer {got}, RFC says {code}"));
                }
                return Ok(format!("parsed; application answers {code}"));
            }
            if let Err(e) = m.validate() {
                return Err(format!("valid message flagged: {e}"));
            }
            Ok("parsed, round-trip equal".into())
        }
        Verdict::Invalid(code) => {
            let err = match parsed {
                Err(e) => e,
                Ok(m) => match m.validate() {
                    Err(e) => e,
                    Ok(()) => return Err("accepted".into()),
                },
            };
            if err.status_code() != code {
                return Err(format!(
                    "answered {} ({err}), RFC says {code}",
                    err.status_code()
                ));
            }
            Ok(format!("{} {}", err.status_code(), err))
        }
    }
}

fn run(dir: &str, verdict_of: fn(&str) -> Option<Verdict>) -> (usize, usize, usize, usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let (mut valid_ok, mut valid_n, mut invalid_ok, mut invalid_n) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dat"))
    {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let verdict = verdict_of(&name).unwrap_or_else(|| panic!("no verdict for {name}"));
        let bytes = std::fs::read(path).unwrap();
        let result = check(&bytes, verdict);
        let invalid = matches!(verdict, Verdict::Invalid(_));
        if invalid {
            invalid_n += 1;
        } else {
            valid_n += 1;
        }
        match &result {
            Ok(note) => {
                if invalid {
                    invalid_ok += 1;
                } else {
                    valid_ok += 1;
                }
                println!("  ok    {name:32} {verdict:?}: {note}");
            }
            Err(why) => {
                println!("  WRONG {name:32} {verdict:?}: {why}");
                failures.push(name);
            }
        }
    }
    println!(
        "{}: {}/{} right (valid/application {valid_ok}/{valid_n}, invalid {invalid_ok}/{invalid_n})",
        dir.file_name().unwrap().to_string_lossy(),
        valid_ok + invalid_ok,
        valid_n + invalid_n
    );
    assert!(failures.is_empty(), "wrong verdicts: {failures:?}");
    (valid_ok, valid_n, invalid_ok, invalid_n)
}

#[test]
fn rfc4475_torture_tests() {
    let (vo, vn, io, inn) = run("rfc4475", rfc4475_verdict);
    assert_eq!(vn + inn, 49, "RFC 4475 §3 has 49 messages");
    assert_eq!((vo, io), (vn, inn));
}

#[test]
fn rfc5118_ipv6_torture_tests() {
    let (vo, vn, io, inn) = run("rfc5118", rfc5118_verdict);
    assert_eq!(vn + inn, 12, "RFC 5118 §4 has 12 messages");
    assert_eq!((vo, io), (vn, inn));
}
