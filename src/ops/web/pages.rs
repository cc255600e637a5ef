//! The admin page's HTML. Everything that comes from the network or a file (callers'
//! names, SIP reasons, the configuration) is escaped with [`esc`]; the live parts are
//! filled in by `app.js` with `textContent`, never as markup.

use crate::config::Diagnostic;
use serde_json::Value;
use std::fmt::Write as _;

/// `s` safe inside HTML text and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `page` names it for the style and the script; `csrf` is the session's
/// token (none on the login page, which has no navigation).
pub fn layout(title: &str, page: &str, csrf: Option<&str>, body: &str) -> String {
    let nav = match csrf {
        Some(csrf) => format!(
            "<nav><a id=\"nav-status\" href=\"/\">Status</a> \
             <a id=\"nav-records\" href=\"/records\">Call records</a> \
             <a id=\"nav-config\" href=\"/config\">Configuration</a> \
             <a id=\"nav-capture\" href=\"/capture.pcap?last=300\">SIP capture (5 min)</a></nav>\
             <form id=\"logout\" method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button id=\"logout-submit\">Log out</button></form>",
            esc(csrf)
        ),
        None => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>tipring · {}</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body data-page=\"{}\"><header><strong>tipring</strong> {nav}</header>\
         <main>{body}</main><script src=\"/app.js\"></script></body></html>\n",
        esc(title),
        esc(page)
    )
}

/// The login form, with `error` under it.
pub fn login(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p id=\"login-error\" class=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    layout(
        "log in",
        "login",
        None,
        &format!(
            "<h1>Log in</h1><form id=\"login\" method=\"post\" action=\"/login\">\
             <label>Password <input id=\"password\" type=\"password\" name=\"password\" \
             autocomplete=\"current-password\" autofocus required></label> \
             <button id=\"login-submit\">Log in</button></form>{error}"
        ),
    )
}

/// The status page's frame; `app.js` fills it from `/api/status` every second.
pub fn status(csrf: &str) -> String {
    layout(
        "status",
        "status",
        Some(csrf),
        "<p id=\"live\">waiting for the gateway…</p>\
         <h2>Lines</h2><table id=\"ports\"><thead><tr><th>Port</th><th>Kind</th>\
         <th>Number</th><th>State</th><th>Last call</th></tr></thead><tbody></tbody></table>\
         <h2>Calls</h2><table id=\"calls\"><thead><tr><th>Port</th><th>Direction</th>\
         <th>From</th><th>To</th><th>Answered</th><th>Seconds</th><th>Codec</th>\
         <th>Loss</th><th>Jitter ms</th><th>MOS</th></tr></thead><tbody></tbody></table>\
         <h2>SIP ladder <small id=\"ladder-call\"></small></h2><ol id=\"ladder\"></ol>\
         <h2>Registrations</h2><table id=\"registrations\"><thead><tr><th>Account</th>\
         <th>State</th><th>Expires in s</th><th>Last answer</th></tr></thead><tbody></tbody>\
         </table><h2>Counters</h2><dl id=\"counters\"></dl>",
    )
}

/// The call records, newest first.
pub fn records(csrf: &str, file: Option<&str>, records: &[Value]) -> String {
    let mut body = String::from("<h1>Call records</h1>");
    match file {
        None => body.push_str("<p>No records file is configured ([records]).</p>"),
        Some(f) => {
            let _ = write!(
                body,
                "<p>The last {} calls of <code>{}</code>, newest first.</p>",
                records.len(),
                esc(f)
            );
        }
    }
    body.push_str(
        "<table id=\"records\"><thead><tr><th>Start</th><th>Port</th><th>Direction</th>\
         <th>From</th><th>To</th><th>Seconds</th><th>SIP</th><th>Cause</th><th>Codec</th>\
         <th>MOS</th></tr></thead><tbody>",
    );
    for r in records {
        let s = |k: &str| match &r[k] {
            Value::String(s) => esc(s),
            Value::Null => String::new(),
            v => esc(&v.to_string()),
        };
        let _ = write!(
            body,
            "<tr class=\"record\" data-call-id=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s("call_id"),
            s("start"),
            s("port"),
            s("direction"),
            s("caller"),
            s("called"),
            s("duration_s"),
            s("sip_code"),
            s("cause"),
            s("codec"),
            s("mos"),
        );
    }
    body.push_str("</tbody></table>");
    layout("call records", "records", Some(csrf), &body)
}

/// What the configuration page says besides the text.
#[derive(Debug, Default)]
pub struct ConfigView<'a> {
    /// Where the running configuration came from.
    pub running: Option<String>,
    /// What the last change of configuration came to.
    pub last_change: Option<String>,
    /// The outcome of this submission.
    pub result: Option<String>,
    /// Why this submission was refused.
    pub errors: Vec<Diagnostic>,
    /// The text in the editor (secrets masked).
    pub text: &'a str,
    /// Why it cannot be changed here, when it cannot.
    pub read_only: Option<String>,
}

/// The configuration, editable unless `v.read_only` says why not.
pub fn config(csrf: &str, v: &ConfigView<'_>) -> String {
    let mut body = String::from("<h1>Configuration</h1>");
    if let Some(r) = &v.running {
        let _ = write!(body, "<p id=\"config-running\">{}</p>", esc(r));
    }
    if let Some(c) = &v.last_change {
        let _ = write!(body, "<p id=\"config-change\">{}</p>", esc(c));
    }
    if let Some(r) = &v.result {
        let _ = write!(body, "<p id=\"config-result\" class=\"ok\">{}</p>", esc(r));
    }
    if !v.errors.is_empty() {
        body.push_str(
            "<p class=\"error\">Not applied; the running configuration is unchanged:</p>\
             <ul id=\"config-errors\">",
        );
        let lines: Vec<&str> = v.text.lines().collect();
        for d in &v.errors {
            let line = d.line.unwrap_or(0);
            let _ = write!(
                body,
                "<li class=\"error\" data-line=\"{line}\">{}{}: {}",
                d.line.map(|l| format!("line {l}: ")).unwrap_or_default(),
                esc(&d.field),
                esc(&d.message)
            );
            if let Some(text) = line.checked_sub(1).and_then(|i| lines.get(i)) {
                let _ = write!(body, "<pre>{line:>4} | {}</pre>", esc(text));
            }
            body.push_str("</li>");
        }
        body.push_str("</ul>");
    }
    match &v.read_only {
        Some(why) => {
            let _ = write!(
                body,
                "<p id=\"config-read-only\">{}</p><pre id=\"config-view\">{}</pre>",
                esc(why),
                esc(v.text)
            );
        }
        None => {
            let _ = write!(
                body,
                "<p>Secrets show as <code>\"{kept}\"</code> and are kept unless you type \
                 a new value. The configuration is checked as <code>tipring check-config\
                 </code> does and applied once every line is idle; if it does not start, \
                 the previous one runs again.</p>\
                 <form id=\"config\" method=\"post\" action=\"/config\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <textarea id=\"config-text\" name=\"text\" rows=\"36\" cols=\"100\" \
                 spellcheck=\"false\">{}</textarea><br>\
                 <button id=\"config-apply\">Check and apply</button></form>",
                esc(csrf),
                esc(v.text),
                kept = super::config_edit::KEPT,
            );
        }
    }
    layout("configuration", "config", Some(csrf), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_data_is_escaped() {
        let r = serde_json::json!({"caller": "<script>alert(1)</script>", "call_id": "\"x"});
        let page = records("t", Some("/f"), &[r]);
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("data-call-id=\"&quot;x\""));
    }

    #[test]
    fn config_errors_quote_their_line() {
        let d = Diagnostic {
            file: "f".into(),
            line: Some(2),
            field: "media.ptime_ms".into(),
            message: "7 is not <10>".into(),
        };
        let v = ConfigView {
            errors: vec![d],
            text: "[media]\nptime_ms = 7\n",
            ..Default::default()
        };
        let page = config("t", &v);
        assert!(page.contains("data-line=\"2\">line 2: media.ptime_ms: 7 is not &lt;10&gt;"));
        assert!(page.contains("<pre>   2 | ptime_ms = 7</pre>"));
    }
}
