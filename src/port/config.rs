//! A port from its configuration: the FXS or FXO machine with its dial plan, timers,
//! ring cadence and (FXO) dial policy, as the validated configuration says.

use super::collect::PlanCollector;
use super::{Machine, Port};
use crate::call::FeatureCodes;
use crate::call::fxo::{
    AnswerSupervision as Supervision, DEFAULT_PIN_TRIES, DialAllow, DialMethod, DialWait,
    Disconnect, FxoConfig, FxoInbound, FxoPolicy, FxoPort,
};
use crate::call::fxs::{FxsConfig, FxsPort};
use crate::config::{self, FxoInboundRole, Loaded, PortRole};
use crate::dialplan::{DigitMap, LineMode};
use std::time::Duration;
use tipring_hal::model::{RingCadence, RingStep};
use tipring_media::tone::CountryProfile;

/// Digit map of a port that has none (hotline): anything, sent after the short timer.
pub(super) const ANY_NUMBER: &str = "x.T";
/// FXO: longest wait for the exchange's dial tone before dialling anyway.
const DIAL_TONE_TIMEOUT: Duration = Duration::from_secs(4);
/// FXO with immediate answer supervision: 200 OK this long after the last digit.
const ANSWER_AFTER_DIALLING: Duration = Duration::from_millis(500);

/// The country's ring cadence as a line-card command (pairs of on/off milliseconds).
pub fn ring_cadence(p: &CountryProfile) -> RingCadence {
    let mut steps = heapless::Vec::new();
    for pair in p.ring.segments().chunks(2) {
        let clamp = |v: u32| v.min(u32::from(u16::MAX)) as u16;
        let _ = steps.push(RingStep {
            on_ms: clamp(pair[0]),
            off_ms: clamp(pair.get(1).copied().unwrap_or(0)),
        });
    }
    RingCadence {
        frequency_hz: 20,
        steps,
    }
}

impl Port {
    /// The configured port `port` (a validated configuration).
    pub fn from_config(loaded: &Loaded, port: &config::Port) -> Port {
        let map = |name: Option<&str>| {
            name.and_then(|n| loaded.digit_map(n).cloned())
                .unwrap_or_else(any_number)
        };
        let timers = loaded.dial_timers();
        let machine = match port.role() {
            PortRole::Fxo(role) => {
                let (inbound, plan) = match role.inbound {
                    FxoInboundRole::Hotline { uri } => (FxoInbound::Hotline(uri.into()), None),
                    FxoInboundRole::TwoStage { dial_plan } => {
                        (FxoInbound::TwoStage, Some(dial_plan))
                    }
                };
                let f = role.far_hangup;
                let cfg = FxoConfig {
                    rings: u32::from(role.rings_before_seize),
                    inbound,
                    dial_wait: DialWait::DialTone {
                        timeout: DIAL_TONE_TIMEOUT,
                    },
                    dial_method: match role.dialing {
                        config::DialMode::Dtmf => DialMethod::Dtmf {
                            per_digit: Duration::from_millis(200),
                        },
                        config::DialMode::Pulse => DialMethod::Pulse,
                    },
                    answer: match role.answer_supervision {
                        config::AnswerSupervision::Immediate => {
                            Supervision::AfterDialling(ANSWER_AFTER_DIALLING)
                        }
                        config::AnswerSupervision::PolarityReversal => {
                            Supervision::PolarityReversal
                        }
                        config::AnswerSupervision::Speech => Supervision::Speech,
                    },
                    disconnect: Disconnect {
                        loop_current_drop: f.loop_current_drop,
                        polarity_reversal: f.polarity_reversal,
                        tone: f.busy_tone,
                        silence: (f.silence_ms > 0)
                            .then(|| Duration::from_millis(f.silence_ms.into())),
                    },
                    flash: Duration::from_millis(role.flash_ms.into()),
                    caller_id_window: Duration::from_millis(role.caller_id_window_ms.into()),
                    policy: FxoPolicy {
                        // Validated; a map that did not parse would allow nothing.
                        allow: DigitMap::parse(role.dial_allow)
                            .map_or(DialAllow::Nothing, DialAllow::Only),
                        pin: role.disa_pin.map(str::to_owned),
                        pin_tries: DEFAULT_PIN_TRIES,
                        max_call: Some(Duration::from_secs(role.max_call_s.into())),
                        max_calls_per_hour: Some(role.max_calls_per_hour),
                        digits_after_answer: role.allow_digits_after_answer,
                        flash: role.allow_flash,
                        direct_seize: role.allow_direct_seize,
                    },
                    ..FxoConfig::default()
                };
                let collector = PlanCollector::new(map(plan), timers, LineMode::Normal);
                Machine::Fxo(FxoPort::new(cfg, collector))
            }
            role => {
                let plan = match role {
                    PortRole::FxsDialPlan { dial_plan } => Some(dial_plan),
                    PortRole::FxsWarmLine { dial_plan, .. } => dial_plan,
                    _ => None,
                };
                let features = if port.feature_codes == Some(false) {
                    FeatureCodes::none()
                } else {
                    loaded.feature_codes()
                };
                let collector =
                    PlanCollector::new(map(plan), timers, port.line_mode()).with_features(features);
                let mut cfg = FxsConfig::with_cadence(ring_cadence(&loaded.tone_profile()));
                if let Some(s) = port.no_answer_s {
                    cfg.no_answer = std::time::Duration::from_secs(s.into());
                }
                cfg.flash_features = port.flash != Some(crate::config::FlashMode::Relay);
                cfg.call_waiting = port.call_waiting_on();
                if let Some(s) = port.call_waiting_timeout_s {
                    cfg.call_waiting_timeout = std::time::Duration::from_secs(s.into());
                }
                if let Some(code) = port.call_waiting_status {
                    cfg.call_waiting_status = code;
                }
                Machine::Fxs(FxsPort::new(cfg, collector))
            }
        };
        let p = Port::new(port.index, machine).with_fax(port.fax_mode());
        if port.dt_as == Some(true) {
            p.with_idle_monitor()
        } else {
            p
        }
    }
}

fn any_number() -> DigitMap {
    // A constant, not input: `x.T` parses (checked by the tests).
    DigitMap::parse(ANY_NUMBER).expect("x.T is a valid digit map")
}
