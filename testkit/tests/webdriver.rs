//! The WebDriver client against real headless Chromium: a tiny page with a form, served
//! on loopback, whose button changes a text through a script loaded from its own file, and
//! which sets an HttpOnly, SameSite=Strict cookie.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use testkit::webdriver::{Browser, WebDriverError};

const PAGE: &str = "<!doctype html>
<html><head><meta charset=utf-8><title>tipring test</title></head><body>
<form id=login>
  <input id=user name=user value=placeholder>
  <input id=pass name=pass type=password>
  <button id=go type=button>Log in</button>
</form>
<p id=status>idle</p>
<script src=/app.js></script>
</body></html>
";

const SCRIPT: &str = "document.getElementById('go').addEventListener('click', () => {
  document.getElementById('status').textContent = 'welcome ' + document.getElementById('user').value;
});
";

/// Serves `PAGE` at `/` (with the cookie) and `SCRIPT` at `/app.js` on 127.0.0.1, a
/// thread per connection; its address.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || respond(stream));
        }
    });
    format!("http://{addr}")
}

/// Answers the requests of one connection, one at a time.
fn respond(stream: TcpStream) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut input = BufReader::new(stream);
    loop {
        let mut request = String::new();
        if input.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        // The head: this test's browser sends no bodies.
        loop {
            let mut line = String::new();
            if input.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let path = request.split_whitespace().nth(1).unwrap_or("");
        let (status, kind, extra, body) = match path {
            "/" => (
                "200 OK",
                "text/html; charset=utf-8",
                "Set-Cookie: session=s3cret; Path=/; HttpOnly; SameSite=Strict\r\n",
                PAGE,
            ),
            "/app.js" => ("200 OK", "text/javascript", "", SCRIPT),
            _ => ("404 Not Found", "text/plain", "", "not found\n"),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\n{extra}\r\n",
            body.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(body.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn drives_headless_chromium() {
    let began = Instant::now();
    let site = serve();
    let browser = Browser::start().expect("browser");
    let started = began.elapsed();

    browser.goto(&format!("{site}/")).expect("goto");
    assert_eq!(browser.current_url().expect("url"), format!("{site}/"));
    assert!(browser.page_source().expect("source").contains("/app.js"));
    assert_eq!(browser.find_all("input").expect("inputs").len(), 2);

    let pass = browser.find("#pass").expect("password field");
    assert_eq!(
        pass.attribute("type").expect("attribute").as_deref(),
        Some("password")
    );
    assert_eq!(pass.attribute("placeholder").expect("attribute"), None);
    pass.send_keys("hunter2").expect("type password");
    assert_eq!(pass.property("value").expect("property"), "hunter2");

    let user = browser
        .wait_for("#user", Duration::from_secs(5))
        .expect("user field");
    user.clear().expect("clear");
    user.send_keys("admin").expect("type user");
    browser.find("#go").expect("button").click().expect("click");
    let status = browser
        .wait_for_text("#status", "welcome admin", Duration::from_secs(5))
        .expect("status text");
    assert_eq!(status.text().expect("text"), "welcome admin");

    // The cookie's flags, and that scripts cannot read it.
    let cookies = browser.cookies().expect("cookies");
    let session = cookies
        .iter()
        .find(|c| c["name"] == "session")
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert_eq!(session["value"], "s3cret");
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Strict");
    let seen = browser
        .execute(
            "return [document.cookie, arguments[0] + 1];",
            vec![serde_json::json!(41)],
        )
        .expect("execute");
    assert_eq!(seen, serde_json::json!(["", 42]));

    // Failures are errors naming what failed, not panics.
    match browser.find("#absent") {
        Err(WebDriverError::Command { error, .. }) => assert_eq!(error, "no such element"),
        other => panic!("find #absent: {other:?}"),
    }
    match browser.wait_for("#absent", Duration::from_millis(300)) {
        Err(e @ WebDriverError::NotFound { .. }) => assert!(e.to_string().contains("#absent")),
        other => panic!("wait_for #absent: {other:?}"),
    }
    match browser.wait_for_text("#status", "never", Duration::from_millis(300)) {
        Err(e @ WebDriverError::TextTimeout { .. }) => {
            assert!(e.to_string().contains("welcome admin"), "{e}")
        }
        other => panic!("wait_for_text never: {other:?}"),
    }
    match browser.execute("throw new Error('boom')", vec![]) {
        Err(e @ WebDriverError::Command { .. }) => assert!(e.to_string().contains("boom"), "{e}"),
        other => panic!("throwing script: {other:?}"),
    }

    let dir = std::env::temp_dir().join(format!("tipring-webdriver-test-{}", std::process::id()));
    let shot = dir.join("shots").join("page.png");
    browser.screenshot(&shot).expect("screenshot");
    let png = std::fs::read(&shot).expect("read screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let _ = std::fs::remove_dir_all(&dir);

    drop(browser);
    eprintln!(
        "browser started in {started:?}; whole test {:?}",
        began.elapsed()
    );
}
