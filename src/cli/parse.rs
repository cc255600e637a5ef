//! `tipring parse [FILE|-]`: reads one SIP message (raw bytes, CRLF or bare LF line ends)
//! and prints it as JSON: the start line, the headers in order with typed fields where the
//! header is known, and the body length. A malformed message is reported on stderr with
//! what is wrong, where, and the response a UAS would send; the exit status is then 1.

use serde_json::{Value, json};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use tipring_sip::header::{Auth, Contact, NameAddr, ProductItem, Typed, Via};
use tipring_sip::params::Params;
use tipring_sip::{Host, Message, StartLine, Uri};

/// Arguments of `tipring parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// File holding one SIP message; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: ParseArgs) -> ExitCode {
    let (name, bytes) = match read_input(args.file.as_deref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("tipring parse: {e}");
            return ExitCode::from(2);
        }
    };
    let checked = Message::parse(&bytes).and_then(|m| m.validate().map(|()| m));
    match checked {
        Ok(m) => match serde_json::to_string_pretty(&message_json(&m)) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tipring parse: {e}");
                ExitCode::from(2)
            }
        },
        Err(e) => {
            eprintln!("{name}: {e}");
            eprintln!(
                "a UAS would answer: {} {}",
                e.status_code(),
                e.reason_phrase()
            );
            ExitCode::from(1)
        }
    }
}

fn read_input(file: Option<&std::path::Path>) -> std::io::Result<(String, Vec<u8>)> {
    match file {
        Some(p) if p.as_os_str() != "-" => Ok((p.display().to_string(), std::fs::read(p)?)),
        _ => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf)?;
            Ok(("<stdin>".into(), buf))
        }
    }
}

fn message_json(m: &Message<'_>) -> Value {
    let start = match m.start_line() {
        StartLine::Request(r) => json!({
            "type": "request",
            "method": r.method.as_str(),
            "uri": uri_json(&r.uri),
            "version": "SIP/2.0",
        }),
        StartLine::Response(s) => json!({
            "type": "response",
            "version": "SIP/2.0",
            "status": s.code,
            "reason": s.reason,
        }),
    };
    let headers: Vec<Value> = m
        .headers()
        .iter()
        .map(|h| {
            let mut o = json!({ "name": h.name, "value": h.value, "offset": h.offset });
            if let Ok(t) = h.typed()
                && !matches!(t, Typed::Raw(_))
            {
                o["canonical"] = json!(h.kind.canonical());
                o["typed"] = typed_json(&t);
            }
            o
        })
        .collect();
    json!({ "start_line": start, "headers": headers, "body_length": m.body().len() })
}

fn params_json(p: &Params<'_>) -> Value {
    Value::Array(
        p.iter()
            .map(|p| json!({ "name": p.name, "value": p.value }))
            .collect(),
    )
}

fn host_json(h: &Host<'_>) -> Value {
    match h {
        Host::Domain(d) => json!({ "domain": d }),
        Host::Ipv4(a) => json!({ "ipv4": a.to_string() }),
        Host::Ipv6(a) => json!({ "ipv6": a.to_string() }),
    }
}

fn uri_json(u: &Uri<'_>) -> Value {
    match u {
        Uri::Sip(s) => json!({
            "scheme": if s.secure { "sips" } else { "sip" },
            "user": s.user,
            "password": s.password,
            "host": host_json(&s.host),
            "port": s.port,
            "params": params_json(&s.params),
            "headers": s.headers,
        }),
        Uri::Tel(t) => {
            json!({ "scheme": "tel", "number": t.number, "params": params_json(&t.params) })
        }
        Uri::Absolute(a) => json!({ "scheme": a.scheme, "opaque": a.rest }),
    }
}

fn via_json(v: &Via<'_>) -> Value {
    json!({
        "protocol": format!("{}/{}", v.protocol, v.version),
        "transport": v.transport,
        "host": host_json(&v.host),
        "port": v.port,
        "branch": v.branch(),
        "received": v.received().map(|a| a.to_string()),
        "rport": v.rport().map(|r| match r {
            tipring_sip::header::Rport::Requested => json!(true),
            tipring_sip::header::Rport::Port(p) => json!(p),
        }),
        "maddr": v.maddr().map(|h| h.to_string()),
        "ttl": v.ttl(),
        "params": params_json(&v.params),
    })
}

fn name_addr_json(a: &NameAddr<'_>) -> Value {
    json!({
        "display_name": a.display.map(|d| d.chars().collect::<String>()),
        "uri": uri_json(&a.uri),
        "tag": a.tag(),
        "params": params_json(&a.params),
    })
}

fn auth_json(a: &Auth<'_>) -> Value {
    let params: serde_json::Map<String, Value> = a
        .params
        .iter()
        .map(|p| (p.name.to_owned(), json!(p.value)))
        .collect();
    json!({ "scheme": a.scheme, "params": params })
}

fn typed_json(t: &Typed<'_>) -> Value {
    match t {
        Typed::Via(v) => Value::Array(v.clone().map(|v| via_json(&v)).collect()),
        Typed::From(a) | Typed::To(a) => name_addr_json(a),
        Typed::CallId(c) => json!(c.0),
        Typed::CSeq(c) => json!({ "seq": c.seq, "method": c.method.as_str() }),
        Typed::MaxForwards(n) => json!(n),
        Typed::Contact(v) => Value::Array(
            v.clone()
                .map(|c| match c {
                    Contact::Star => json!("*"),
                    Contact::Addr(a) => {
                        let mut o = name_addr_json(&a);
                        o["expires"] = json!(a.expires());
                        o["q"] = json!(a.q().map(|q| f64::from(q) / 1000.0));
                        o
                    }
                })
                .collect(),
        ),
        Typed::Route(v) | Typed::RecordRoute(v) => {
            Value::Array(v.clone().map(|r| name_addr_json(&r.0)).collect())
        }
        Typed::ContentLength(n) | Typed::Expires(n) | Typed::MinExpires(n) => json!(n),
        Typed::ContentType(m) => {
            json!({ "type": m.mtype, "subtype": m.subtype, "params": params_json(&m.params) })
        }
        Typed::WwwAuthenticate(a)
        | Typed::ProxyAuthenticate(a)
        | Typed::Authorization(a)
        | Typed::ProxyAuthorization(a) => auth_json(a),
        Typed::Allow(v)
        | Typed::Supported(v)
        | Typed::Require(v)
        | Typed::ProxyRequire(v)
        | Typed::Unsupported(v)
        | Typed::ContentEncoding(v) => Value::Array(v.clone().map(|t| json!(t.0)).collect()),
        Typed::RetryAfter(r) => {
            json!({ "seconds": r.seconds, "comment": r.comment, "params": params_json(&r.params) })
        }
        Typed::Reason(v) => Value::Array(
            v.clone()
                .map(|r| json!({ "protocol": r.protocol, "cause": r.cause(), "text": r.text() }))
                .collect(),
        ),
        Typed::UserAgent(p) | Typed::Server(p) => Value::Array(
            p.iter()
                .map(|i| match i {
                    ProductItem::Product { name, version } => {
                        json!({ "product": name, "version": version })
                    }
                    ProductItem::Comment(c) => json!({ "comment": c }),
                })
                .collect(),
        ),
        Typed::Date(d) => json!(d.0),
        Typed::Raw(s) => json!(s),
    }
}
