//! Checks a deserialised [`Config`] against itself and its board: everything that serde's
//! types cannot say (references between sections, ranges, required combinations).

use super::board::BoardProfile;
use super::error::{ConfigError, Diagnostic};
use super::locate::Locator;
use super::schema::*;
use super::trust::{PeerFilter, TrustedPeer};
use tipring_hal::model::PortKind;
use tipring_media::echo::{TAIL_MS_MAX, TAIL_MS_MIN};
use tipring_media::tone::{CountryProfile, ToneSpec};

mod limits;
mod operations;

/// Collects diagnostics with their lines.
struct Report<'a> {
    file: &'a str,
    loc: Locator<'a>,
    errs: Vec<Diagnostic>,
}

impl Report<'_> {
    fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        self.errs.push(Diagnostic {
            file: self.file.to_string(),
            line: self.loc.line(&field),
            field,
            message: message.into(),
        });
    }
}

fn kind_name(k: PortKind) -> &'static str {
    match k {
        PortKind::Fxs => "fxs",
        PortKind::Fxo => "fxo",
    }
}

/// A SIP or SIPS URI, checked with the sip crate's parser.
fn check_uri(r: &mut Report<'_>, field: String, uri: &str) {
    match tipring_sip::Uri::parse(uri) {
        Ok(tipring_sip::Uri::Sip(_)) => {}
        Ok(_) => r.err(field, format!("\"{uri}\" is not a sip: or sips: URI")),
        Err(e) => r.err(field, format!("\"{uri}\" is not a SIP URI: {e}")),
    }
}

/// Validates; on success returns the parsed trusted-peer filter.
pub(super) fn validate(
    file: &str,
    text: &str,
    c: &Config,
    board: &BoardProfile,
) -> Result<PeerFilter, ConfigError> {
    let mut r = Report {
        file,
        loc: Locator::new(text),
        errs: Vec::new(),
    };
    identity(&mut r, c);
    accounts(&mut r, c);
    dial_plans(&mut r, c);
    if let Err(errs) = super::features::feature_codes(&c.feature_codes) {
        for (field, message) in errs {
            r.err(field, message);
        }
    }
    ports(&mut r, c, board);
    tones(&mut r, &c.tones);
    timers(&mut r, &c.timers);
    media(&mut r, &c.media);
    if let Some(level) = &c.log.level
        && let Err(e) = crate::service::log::parse(level)
    {
        r.err("log.level", e.to_string());
    }
    limits::rates(&mut r, &c.limits);
    limits::stream_limits(&mut r, &c.limits);
    operations::validate(&mut r, c);
    let filter = security(&mut r, c);
    if r.errs.is_empty() {
        Ok(filter)
    } else {
        r.errs.sort_by_key(|d| d.line.unwrap_or(0));
        Err(ConfigError {
            diagnostics: r.errs,
        })
    }
}

fn identity(r: &mut Report<'_>, c: &Config) {
    let id = &c.identity;
    if id.user_agent.trim().is_empty() || id.user_agent.contains(['\r', '\n']) {
        r.err("identity.user_agent", "must be one non-empty line");
    }
    if id.listen.is_empty() {
        r.err("identity.listen", "at least one listener is needed");
    }
    for (i, l) in id.listen.iter().enumerate() {
        if id.listen[..i].iter().any(|m| {
            m.address == l.address
                && (m.transport == Transport::Udp) == (l.transport == Transport::Udp)
        }) {
            r.err(
                format!("identity.listen[{i}].address"),
                format!("{} is already used by an earlier listener", l.address),
            );
        }
    }
    let tls_used = id.listen.iter().any(|l| l.transport == Transport::Tls)
        || c.accounts.iter().any(|a| a.transport == Transport::Tls);
    match &id.tls {
        None if tls_used => r.err(
            "identity.tls",
            "a TLS listener or account needs [identity.tls] with cert and key",
        ),
        Some(t) => {
            for (name, p) in [
                ("cert", Some(&t.cert)),
                ("key", Some(&t.key)),
                ("ca", t.ca.as_ref()),
            ] {
                if let Some(p) = p
                    && !p.is_file()
                {
                    r.err(
                        format!("identity.tls.{name}"),
                        format!("{} is not a readable file", p.display()),
                    );
                }
            }
        }
        None => {}
    }
}

fn accounts(r: &mut Report<'_>, c: &Config) {
    for (i, a) in c.accounts.iter().enumerate() {
        if a.name.is_empty() {
            r.err(format!("accounts[{i}].name"), "must not be empty");
        }
        if a.realm.as_deref().is_some_and(str::is_empty) {
            r.err(format!("accounts[{i}].realm"), "must not be empty");
        }
        if c.accounts[..i].iter().any(|b| b.name == a.name) {
            r.err(
                format!("accounts[{i}].name"),
                format!("\"{}\" is already the name of an earlier account", a.name),
            );
        }
        for (f, v) in [
            ("registrar", &a.registrar),
            ("proxy", &a.proxy),
            ("secondary_proxy", &a.secondary_proxy),
            ("outbound_proxy", &a.outbound_proxy),
        ] {
            if let Some(v) = v {
                check_uri(r, format!("accounts[{i}].{f}"), v);
            }
        }
        if a.keepalive_s != 0 && !(5..=3600).contains(&a.keepalive_s) {
            r.err(
                format!("accounts[{i}].keepalive_s"),
                format!("{} is outside 0 (off) or 5..=3600", a.keepalive_s),
            );
        }
        if a.secondary_proxy.is_some() && a.proxy.is_none() {
            r.err(
                format!("accounts[{i}].secondary_proxy"),
                "a secondary proxy needs a primary `proxy`",
            );
        }
        if a.registrar.is_some() && a.username.is_none() {
            r.err(
                format!("accounts[{i}].username"),
                "registering needs a username (the address-of-record user)",
            );
        }
        if let Some(s) = &a.mwi_server {
            check_uri(r, format!("accounts[{i}].mwi_server"), s);
        }
        if a.wants_mwi()
            && (a.username.is_none()
                || (a.domain.is_none()
                    && a.registrar.is_none()
                    && a.proxy.is_none()
                    && a.mwi_server.is_none()))
        {
            r.err(
                format!("accounts[{i}].mwi"),
                "message waiting needs the address-of-record: a username and a domain, \
                 registrar, proxy or mwi_server",
            );
        }
        if a.password.is_some() && a.username.is_none() && a.auth_username.is_none() {
            r.err(
                format!("accounts[{i}].password"),
                "a password needs a username or auth_username",
            );
        }
        account_transport(r, c, i, a);
        if a.media_encryption != MediaEncryption::None && a.transport != Transport::Tls {
            // RFC 4568 §8.3: the keys are in the SDP, so only a hop in TLS may carry them.
            r.err(
                format!("accounts[{i}].media_encryption"),
                "SRTP needs transport = \"tls\": its keys travel in the SDP, never over a hop in clear",
            );
        }
        if a.registrar.is_some() && !(60..=86_400).contains(&a.register_expiry_s) {
            r.err(
                format!("accounts[{i}].register_expiry_s"),
                format!("{} is not in 60..=86400", a.register_expiry_s),
            );
        }
    }
}

/// The SIP side sends from its address, the first UDP listener's (RFC 3261 §18.1.1): an
/// account reached over TCP or TLS needs a listener of that transport there too, for the
/// connections and for requests coming back to the Contact it registers.
fn account_transport(r: &mut Report<'_>, c: &Config, i: usize, a: &Account) {
    if a.transport == Transport::Udp {
        return;
    }
    if a.transport == Transport::Tls && c.identity.tls.as_ref().is_some_and(|t| t.ca.is_none()) {
        // No system root store is loaded: the server is verified against `ca` only.
        r.err(
            format!("accounts[{i}].transport"),
            "\"tls\" needs [identity.tls] ca, the CA that signed the account's servers",
        );
    }
    let Some(sip) = c
        .identity
        .listen
        .iter()
        .find(|l| l.transport == Transport::Udp)
    else {
        return; // without a UDP listener the gateway does not start (NoUdpListener)
    };
    let served = c
        .identity
        .listen
        .iter()
        .any(|l| l.transport == a.transport && l.address == sip.address);
    if !served {
        let name = match a.transport {
            Transport::Tcp => "tcp",
            _ => "tls",
        };
        r.err(
            format!("accounts[{i}].transport"),
            format!(
                "\"{name}\" needs an [[identity.listen]] with transport = \"{name}\" at {} \
                 (the SIP address, the first UDP listener's)",
                sip.address
            ),
        );
    }
}

fn dial_plans(r: &mut Report<'_>, c: &Config) {
    for (name, map) in &c.dial_plans {
        let field = format!("dial_plans.{name}");
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            r.err(field.clone(), "names use letters, digits, `_` and `-`");
        }
        if let Err(e) = crate::dialplan::DigitMap::parse(map) {
            r.err(field, format!("digit map: {e}"));
        }
    }
}

fn plan_ref(r: &mut Report<'_>, c: &Config, field: String, name: &str) {
    if !c.dial_plans.contains_key(name) {
        let names: Vec<&str> = c.dial_plans.keys().map(String::as_str).collect();
        let allowed = if names.is_empty() {
            "(no [dial_plans] defined)".to_string()
        } else {
            names.join(", ")
        };
        r.err(field, format!("\"{name}\" is not one of {allowed}"));
    }
}

fn ports(r: &mut Report<'_>, c: &Config, board: &BoardProfile) {
    if c.ports.is_empty() {
        r.err("ports", "at least one [[ports]] entry is needed");
    }
    let fxo_reachable = !c.security.trusted_peers.is_empty() || !c.security.inbound_auth.is_empty();
    for (i, p) in c.ports.iter().enumerate() {
        let f = |name: &str| format!("ports[{i}].{name}");
        if c.ports[..i].iter().any(|q| q.index == p.index) {
            r.err(f("index"), format!("port {} is configured twice", p.index));
        }
        match board.port(p.index) {
            None => {
                let have: Vec<String> = board.ports.iter().map(|b| b.index.to_string()).collect();
                r.err(
                    f("index"),
                    format!(
                        "board \"{}\" has no port {}; it has {}",
                        board.name,
                        p.index,
                        have.join(", ")
                    ),
                );
            }
            Some(b) if b.kind != p.kind => r.err(
                f("kind"),
                format!(
                    "\"{}\" but port {} of board \"{}\" is {}",
                    kind_name(p.kind),
                    p.index,
                    board.name,
                    kind_name(b.kind)
                ),
            ),
            Some(_) => {}
        }
        if let Some(a) = &p.account
            && !c.accounts.iter().any(|x| &x.name == a)
        {
            let names: Vec<&str> = c.accounts.iter().map(|x| x.name.as_str()).collect();
            r.err(
                f("account"),
                format!("\"{a}\" is not one of {}", names.join(", ")),
            );
        }
        if let Some(n) = &p.number
            && (n.is_empty()
                || !n
                    .chars()
                    .all(|ch| ch.is_ascii_digit() || "+*#".contains(ch)))
        {
            r.err(
                f("number"),
                format!("\"{n}\" is not a number (digits, +, *, #)"),
            );
        }
        if let Some(t) = p.echo_tail_ms
            && !(TAIL_MS_MIN..=TAIL_MS_MAX).contains(&t)
        {
            r.err(
                f("echo_tail_ms"),
                format!("{t} is not in {TAIL_MS_MIN}..={TAIL_MS_MAX}"),
            );
        }
        if p.fax == Some(FaxMode::T38) && !FaxMode::T38_BUILT {
            r.err(
                f("fax"),
                "this firmware was built without T.38 (cargo feature `t38`): use \"passthrough\"",
            );
        }
        match p.kind {
            PortKind::Fxs => fxs_port(r, c, p, i),
            PortKind::Fxo => {
                fxo_port(r, c, p, i);
                if !fxo_reachable {
                    r.err(
                        f("kind"),
                        "FXO port reachable from no trusted peer and no inbound auth: add \
                         security.trusted_peers or security.inbound_auth",
                    );
                }
            }
        }
    }
}

fn fxs_port(r: &mut Report<'_>, c: &Config, p: &Port, i: usize) {
    let f = |name: &str| format!("ports[{i}].{name}");
    phone_services(r, p, i);
    if p.forwards_by_gateway() && c.limits.max_relayed_calls == 0 {
        r.err(
            f("forward_mode"),
            "\"gateway\" needs limits.max_relayed_calls of 1 or more",
        );
    }
    for (name, set) in [
        ("inbound", p.inbound.is_some()),
        ("rings_before_seize", p.rings_before_seize.is_some()),
        ("caller_id_window_ms", p.caller_id_window_ms.is_some()),
        ("dialing", p.dialing.is_some()),
        ("answer_supervision", p.answer_supervision.is_some()),
        ("answer_speech_dbm0", p.answer_speech_dbm0.is_some()),
        ("answer_speech_ms", p.answer_speech_ms.is_some()),
        ("far_hangup", p.far_hangup.is_some()),
        ("flash_ms", p.flash_ms.is_some()),
        ("dial_allow", p.dial_allow.is_some()),
        ("disa_pin", p.disa_pin.is_some()),
        ("disa_pin_required", p.disa_pin_required.is_some()),
        ("max_call_s", p.max_call_s.is_some()),
        ("max_calls_per_hour", p.max_calls_per_hour.is_some()),
        (
            "allow_digits_after_answer",
            p.allow_digits_after_answer.is_some(),
        ),
        ("allow_flash", p.allow_flash.is_some()),
        ("allow_direct_seize", p.allow_direct_seize.is_some()),
        ("allow_inband_digits", p.allow_inband_digits.is_some()),
        ("dt_as", p.dt_as.is_some()),
    ] {
        if set {
            r.err(f(name), "applies to FXO ports only");
        }
    }
    match (&p.hotline, &p.warm_line, &p.dial_plan) {
        (Some(_), Some(_), _) => r.err(f("warm_line"), "choose hotline or warm_line, not both"),
        (Some(_), None, Some(_)) => r.err(f("dial_plan"), "a hotline port dials nothing"),
        (None, None, None) => r.err(
            f("dial_plan"),
            "an FXS port needs one of dial_plan, hotline, warm_line",
        ),
        _ => {}
    }
    for (name, v) in [("hotline", &p.hotline), ("warm_line", &p.warm_line)] {
        if let Some(v) = v {
            check_uri(r, f(name), v);
        }
    }
    if let Some(d) = &p.dial_plan {
        plan_ref(r, c, f("dial_plan"), d);
    }
    if p.warm_line.is_some() && !(500..=60_000).contains(&p.warm_line_delay_ms) {
        r.err(
            f("warm_line_delay_ms"),
            format!("{} is not in 500..=60000", p.warm_line_delay_ms),
        );
    }
}

/// An FXS port's phone services: forwarding targets, the no-answer time, distinctive rings.
fn phone_services(r: &mut Report<'_>, p: &Port, i: usize) {
    let f = |name: &str| format!("ports[{i}].{name}");
    for (name, target) in [
        ("forward_always", &p.forward_always),
        ("forward_busy", &p.forward_busy),
        ("forward_no_answer", &p.forward_no_answer),
    ] {
        if let Some(t) = target
            && !matches!(tipring_sip::Uri::parse(t), Ok(tipring_sip::Uri::Sip(_)))
        {
            r.err(f(name), format!("\"{t}\" is not a sip: or sips: URI"));
        }
    }
    if let Some(s) = p.no_answer_s
        && !(5..=600).contains(&s)
    {
        r.err(f("no_answer_s"), format!("{s} is not in 5..=600"));
    }
    if let Some(s) = p.call_waiting_timeout_s
        && !(5..=600).contains(&s)
    {
        r.err(
            f("call_waiting_timeout_s"),
            format!("{s} is not in 5..=600"),
        );
    }
    if let Some(code) = p.call_waiting_status
        && !matches!(code, 480 | 486)
    {
        r.err(
            f("call_waiting_status"),
            format!("{code} is not 480 or 486"),
        );
    }
    for (token, cadence) in p.alert_info_rings.iter().flatten() {
        if token.trim().is_empty() || token.len() > 128 {
            r.err(f("alert_info_rings"), format!("\"{token}\" is not a token"));
        }
        if let Err(e) = super::ring::parse_cadence(cadence) {
            r.err(f("alert_info_rings"), e);
        }
    }
}

fn fxo_port(r: &mut Report<'_>, c: &Config, p: &Port, i: usize) {
    let f = |name: &str| format!("ports[{i}].{name}");
    for (name, set) in [
        ("warm_line", p.warm_line.is_some()),
        ("do_not_disturb", p.do_not_disturb.is_some()),
        ("reject_anonymous", p.reject_anonymous.is_some()),
        ("caller_id_blocking", p.caller_id_blocking.is_some()),
        ("forward_always", p.forward_always.is_some()),
        ("forward_busy", p.forward_busy.is_some()),
        ("forward_no_answer", p.forward_no_answer.is_some()),
        ("forward_mode", p.forward_mode.is_some()),
        ("no_answer_s", p.no_answer_s.is_some()),
        ("feature_codes", p.feature_codes.is_some()),
        ("call_waiting", p.call_waiting.is_some()),
        ("flash", p.flash.is_some()),
        ("call_waiting_timeout_s", p.call_waiting_timeout_s.is_some()),
        ("call_waiting_status", p.call_waiting_status.is_some()),
        ("alert_info_rings", p.alert_info_rings.is_some()),
    ] {
        if set {
            r.err(f(name), "applies to FXS ports only");
        }
    }
    match p.inbound {
        None => r.err(
            f("inbound"),
            "an FXO port needs inbound = one of hotline, two-stage",
        ),
        Some(FxoInbound::Hotline) => match &p.hotline {
            None => r.err(f("hotline"), "inbound = \"hotline\" needs a hotline URI"),
            Some(u) => check_uri(r, f("hotline"), u),
        },
        Some(FxoInbound::TwoStage) => match &p.dial_plan {
            None => r.err(f("dial_plan"), "inbound = \"two-stage\" needs a dial_plan"),
            Some(d) => plan_ref(r, c, f("dial_plan"), d),
        },
    }
    if let Some(n) = p.rings_before_seize
        && !(1..=10).contains(&n)
    {
        r.err(f("rings_before_seize"), format!("{n} is not in 1..=10"));
    }
    if let Some(ms) = p.caller_id_window_ms
        && !(1_000..=20_000).contains(&ms)
    {
        r.err(
            f("caller_id_window_ms"),
            format!("{ms} is not in 1000..=20000"),
        );
    }
    if let Some(ms) = p.flash_ms
        && !(50..=2000).contains(&ms)
    {
        r.err(f("flash_ms"), format!("{ms} is not in 50..=2000"));
    }
    fxo_policy(r, p, i);
    if let Some(h) = p.far_hangup {
        if !h.loop_current_drop && !h.polarity_reversal && !h.busy_tone && h.silence_ms == 0 {
            r.err(
                f("far_hangup"),
                "enable at least one far-hangup detection method",
            );
        }
        if h.silence_ms != 0 && !(5_000..=600_000).contains(&h.silence_ms) {
            r.err(
                f("far_hangup.silence_ms"),
                format!("{} is not 0 (off) or in 5000..=600000", h.silence_ms),
            );
        }
    }
}

/// What the line may be made to dial: the allow-list, the DISA PIN, the limits.
fn fxo_policy(r: &mut Report<'_>, p: &Port, i: usize) {
    let f = |name: &str| format!("ports[{i}].{name}");
    let speech = p.answer_supervision == Some(AnswerSupervision::Speech);
    if let Some(v) = p.answer_speech_dbm0 {
        if !speech {
            r.err(
                f("answer_speech_dbm0"),
                "applies to answer_supervision = \"speech\" only",
            );
        } else if !(-55..=-10).contains(&v) {
            r.err(f("answer_speech_dbm0"), format!("{v} is not in -55..=-10"));
        }
    }
    if let Some(v) = p.answer_speech_ms {
        if !speech {
            r.err(
                f("answer_speech_ms"),
                "applies to answer_supervision = \"speech\" only",
            );
        } else if !(100..=1000).contains(&v) {
            r.err(f("answer_speech_ms"), format!("{v} is not in 100..=1000"));
        }
    }
    if let Some(m) = &p.dial_allow
        && let Err(e) = crate::dialplan::DigitMap::parse(m)
    {
        r.err(f("dial_allow"), format!("digit map: {e}"));
    }
    let two_stage = p.inbound == Some(FxoInbound::TwoStage);
    match &p.disa_pin {
        Some(_) if !two_stage => r.err(f("disa_pin"), "applies to inbound = \"two-stage\" only"),
        Some(pin) => {
            if let Some(why) = crate::call::fxo::pin_weakness(pin) {
                r.err(f("disa_pin"), why);
            }
        }
        None if two_stage && p.disa_pin_required != Some(false) => r.err(
            f("disa_pin"),
            "inbound = \"two-stage\" lets any PSTN caller dial out through the account: \
             set a disa_pin, or disa_pin_required = false to run an open DISA",
        ),
        None => {}
    }
    if let Some(s) = p.max_call_s
        && !(60..=86_400).contains(&s)
    {
        r.err(f("max_call_s"), format!("{s} is not in 60..=86400"));
    }
    if let Some(n) = p.max_calls_per_hour
        && !(1..=3_600).contains(&n)
    {
        r.err(f("max_calls_per_hour"), format!("{n} is not in 1..=3600"));
    }
}

fn tone(r: &mut Report<'_>, field: &str, t: &ToneDef) -> Option<ToneSpec> {
    match ToneSpec::new(&t.freqs, t.level_dbm0, &t.cadence_ms) {
        Ok(s) => Some(s),
        Err(e) => {
            r.err(format!("tones.custom.{field}"), e.to_string());
            None
        }
    }
}

fn tones(r: &mut Report<'_>, t: &Tones) {
    match (t.country, &t.custom) {
        (ToneCountry::Custom, None) => r.err(
            "tones.custom",
            "country = \"custom\" needs [tones.custom] with dial, ringback, busy, congestion, call_waiting, ring_ms",
        ),
        (ToneCountry::Custom, Some(c)) => {
            let parts = [
                tone(r, "dial", &c.dial),
                tone(r, "ringback", &c.ringback),
                tone(r, "busy", &c.busy),
                tone(r, "congestion", &c.congestion),
                tone(r, "call_waiting", &c.call_waiting),
            ];
            if let [Some(d), Some(rb), Some(b), Some(cg), Some(cw)] = parts
                && let Err(e) = CountryProfile::custom(d, rb, b, cg, cw, &c.ring_ms)
            {
                r.err("tones.custom.ring_ms", e.to_string());
            }
        }
        (_, Some(_)) => r.err("tones.custom", "applies only with country = \"custom\""),
        (_, None) => {}
    }
}

fn timers(r: &mut Report<'_>, t: &Timers) {
    for (name, v, lo, hi) in [
        ("first_digit_ms", t.first_digit_ms, 1_000, 120_000),
        ("interdigit_short_ms", t.interdigit_short_ms, 500, 60_000),
        ("interdigit_long_ms", t.interdigit_long_ms, 500, 120_000),
        ("ring_timeout_ms", t.ring_timeout_ms, 5_000, 600_000),
        ("sip_t1_ms", t.sip_t1_ms, 50, 10_000),
        ("sip_t2_ms", t.sip_t2_ms, 100, 60_000),
    ] {
        if !(lo..=hi).contains(&v) {
            r.err(
                format!("timers.{name}"),
                format!("{v} is not in {lo}..={hi}"),
            );
        }
    }
    if t.interdigit_short_ms > t.interdigit_long_ms {
        r.err(
            "timers.interdigit_short_ms",
            format!(
                "{} is longer than interdigit_long_ms ({})",
                t.interdigit_short_ms, t.interdigit_long_ms
            ),
        );
    }
    if t.sip_t1_ms >= t.sip_t2_ms {
        r.err(
            "timers.sip_t1_ms",
            format!("{} is not below sip_t2_ms ({})", t.sip_t1_ms, t.sip_t2_ms),
        );
    }
    // RFC 4028 §4: Min-SE is at least 90 s; a day bounds what a peer can make us hold.
    if !(90..=86_400).contains(&t.min_se_s) {
        r.err(
            "timers.min_se_s",
            format!("{} is not in 90..=86400", t.min_se_s),
        );
    }
    let floor = t.min_se_s.clamp(90, 86_400);
    if t.session_expires_s != 0 && !(floor..=86_400).contains(&t.session_expires_s) {
        r.err(
            "timers.session_expires_s",
            format!(
                "{} is not 0 (off) or in min_se_s ({floor})..=86400",
                t.session_expires_s
            ),
        );
    }
}

/// A preference list (`field`): at least one of `allowed`, none listed twice.
fn preferences<T: PartialEq>(r: &mut Report<'_>, field: &str, items: &[T], allowed: &str) {
    if items.is_empty() {
        r.err(field, format!("at least one of {allowed}"));
    }
    for (i, x) in items.iter().enumerate() {
        if items[..i].contains(x) {
            r.err(format!("{field}[{i}]"), "listed twice");
        }
    }
}

fn media(r: &mut Report<'_>, m: &Media) {
    preferences(r, "media.codecs", &m.codecs, "pcmu, pcma");
    if let Some(s) = &m.stun_server
        && m.stun_server().is_none()
    {
        r.err(
            "media.stun_server",
            format!("\"{s}\" is not HOST or HOST:PORT (\"stun.example.net:3478\", \"192.0.2.9\")"),
        );
    }
    if !(10..=1_000).contains(&m.jitter_min_ms) {
        r.err(
            "media.jitter_min_ms",
            format!("{} is not in 10..=1000", m.jitter_min_ms),
        );
    }
    if m.jitter_max_ms < m.jitter_min_ms || m.jitter_max_ms > 2_000 {
        r.err(
            "media.jitter_max_ms",
            format!("{} is not in jitter_min_ms..=2000", m.jitter_max_ms),
        );
    }
    if !(96..=127).contains(&m.telephone_event_pt) {
        r.err(
            "media.telephone_event_pt",
            format!(
                "{} is not a dynamic payload type (96..=127)",
                m.telephone_event_pt
            ),
        );
    }
    // The audio path moves one 20 ms frame per ALSA period (DESIGN.md principle 4) and the
    // bridge sends one frame per packet: any other packetisation would be offered in the
    // SDP but not sent.
    if m.ptime_ms != PTIME_MS {
        r.err(
            "media.ptime_ms",
            format!(
                "{} is not one of {PTIME_MS} (the audio path sends one {PTIME_MS} ms frame per packet)",
                m.ptime_ms
            ),
        );
    }
    if m.rtp_port_min < 1024 || m.rtp_port_min % 2 != 0 {
        r.err(
            "media.rtp_port_min",
            format!("{} is not an even port >= 1024", m.rtp_port_min),
        );
    }
    if m.rtp_port_max <= m.rtp_port_min {
        r.err(
            "media.rtp_port_max",
            format!(
                "{} is not above rtp_port_min ({})",
                m.rtp_port_max, m.rtp_port_min
            ),
        );
    }
}

fn security(r: &mut Report<'_>, c: &Config) -> PeerFilter {
    let mut f = PeerFilter::default();
    for (i, entry) in c.security.trusted_peers.iter().enumerate() {
        let field = match entry {
            TrustedPeerEntry::Address(_) => format!("security.trusted_peers[{i}]"),
            TrustedPeerEntry::Bound(_) => format!("security.trusted_peers[{i}].address"),
        };
        match TrustedPeer::parse(entry.address()) {
            Ok(mut p) => {
                p.transport = entry.transport();
                f.peers.push(p);
            }
            Err(e) => r.err(field, e),
        }
    }
    for (i, a) in c.security.inbound_auth.iter().enumerate() {
        if a.username.is_empty() {
            r.err(
                format!("security.inbound_auth[{i}].username"),
                "must not be empty",
            );
        }
        if a.password.len() < 8 {
            r.err(
                format!("security.inbound_auth[{i}].password"),
                "must be at least 8 characters",
            );
        }
    }
    for (i, s) in c.security.allow_targets.iter().enumerate() {
        if let Err(e) = TrustedPeer::parse(s) {
            r.err(format!("security.allow_targets[{i}]"), e);
        }
    }
    preferences(
        r,
        "security.auth_algorithms",
        &c.security.auth_algorithms,
        "sha-256, md5, sha-512-256",
    );
    redirect_allow(r, c);
    f
}

/// `[security] redirect_allow`: addresses, CIDR blocks or host names.
fn redirect_allow(r: &mut Report<'_>, c: &Config) {
    for (i, s) in c.security.redirect_allow.iter().enumerate() {
        let name = !s.is_empty()
            && s.chars().any(|ch| ch.is_ascii_alphabetic())
            && s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '-');
        if !name && let Err(e) = TrustedPeer::parse(s) {
            r.err(
                format!("security.redirect_allow[{i}]"),
                format!("{e} (and not a host name)"),
            );
        }
    }
}
