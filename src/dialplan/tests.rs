//! Collector behaviour on virtual time, with examples of the kind given in the Cisco SPA
//! and Grandstream digit-map documentation.

use super::matcher::NoMatch;
use super::*;
use proptest::prelude::*;
use std::time::{Duration, Instant};

const T: Timers = Timers {
    first_digit: Duration::from_secs(10),
    interdigit_short: Duration::from_secs(3),
    interdigit_long: Duration::from_secs(10),
};

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

/// Dials `digits` 200 ms apart starting 1 s after off-hook; returns the last step and the
/// time of the last digit.
fn dial(map: &str, digits: &str) -> (Collector, Step, Instant) {
    let t0 = Instant::now();
    let (mut c, first) = Collector::start(DigitMap::parse(map).unwrap(), T, LineMode::Normal, t0);
    assert_eq!(
        first,
        Step::NeedMore {
            deadline: t0 + T.first_digit
        }
    );
    let mut step = first;
    let mut at = t0;
    for (i, d) in digits.chars().enumerate() {
        at = ms(t0, 1000 + 200 * i as u64);
        step = c.digit(d, at);
        if !matches!(step, Step::NeedMore { .. }) {
            break;
        }
    }
    (c, step, at)
}

fn number(s: &str) -> Step {
    Step::Match(Dialed::Number(s.to_string()))
}

const NANP: &str = "{ [2-8]xxxxxx | 1[2-9]xxxxxxxxx | 011x.T | 911 | *xx | <9:>1[2-9]xxxxxxxxx }";

#[test]
fn a_unique_complete_pattern_is_sent_at_once() {
    assert_eq!(dial(NANP, "911").1, number("911"));
    assert_eq!(dial(NANP, "5551234").1, number("5551234"));
    // `[2-8]` keeps 9 free for the access code and 911.
    assert_eq!(dial(NANP, "16505551234").1, number("16505551234"));
    assert_eq!(dial(NANP, "*69").1, number("*69"));
}

#[test]
fn a_rewrite_strips_the_access_digit() {
    assert_eq!(dial(NANP, "916505551234").1, number("16505551234"));
}

#[test]
fn a_rewrite_prepends() {
    let map = "{ <:+49>0[1-9]x+T | <00:+>x+T | 11[0-2] }";
    let (mut c, step, at) = dial(map, "030123456");
    let Step::NeedMore { deadline } = step else {
        panic!("{step:?}")
    };
    assert_eq!(deadline, at + T.interdigit_short);
    assert_eq!(c.poll(deadline), number("+49030123456"));
    let (mut c, _, at) = dial(map, "0044207");
    assert_eq!(c.poll(at + T.interdigit_short), number("+44207"));
    assert_eq!(dial(map, "110").1, number("110"));
}

#[test]
fn timer_patterns_complete_on_the_short_timer() {
    let (mut c, step, at) = dial(NANP, "01144");
    assert_eq!(
        step,
        Step::NeedMore {
            deadline: at + T.interdigit_short
        }
    );
    assert_eq!(
        c.poll(at + T.interdigit_short - Duration::from_millis(1)),
        Step::NeedMore {
            deadline: at + T.interdigit_short
        }
    );
    assert_eq!(c.poll(at + T.interdigit_short), number("01144"));
}

#[test]
fn incomplete_digits_wait_the_long_timer_then_fail() {
    let (mut c, step, at) = dial(NANP, "555");
    assert_eq!(
        step,
        Step::NeedMore {
            deadline: at + T.interdigit_long
        }
    );
    assert_eq!(
        c.poll(at + T.interdigit_long),
        Step::NoMatch(NoMatch::Incomplete)
    );
    // Digits after the end change nothing.
    assert_eq!(
        c.digit('1', at + T.interdigit_long),
        Step::NoMatch(NoMatch::Incomplete)
    );
}

#[test]
fn a_complete_pattern_that_could_grow_waits_the_short_timer() {
    // "12" completes `12` but `12x` may follow (Cisco: short timer once complete).
    let (mut c, step, at) = dial("{ 12 | 12x }", "12");
    assert_eq!(
        step,
        Step::NeedMore {
            deadline: at + T.interdigit_short
        }
    );
    assert_eq!(c.poll(at + T.interdigit_short), number("12"));
    assert_eq!(dial("{ 12 | 12x }", "123").1, number("123"));
}

#[test]
fn digits_matching_nothing_fail_at_once() {
    let (_, step, at) = dial(NANP, "0");
    assert_eq!(
        step,
        Step::NeedMore {
            deadline: at + T.interdigit_long
        }
    );
    assert_eq!(dial(NANP, "02").1, Step::NoMatch(NoMatch::Invalid));
    assert_eq!(dial(NANP, "*6*").1, Step::NoMatch(NoMatch::Invalid));
}

#[test]
fn hash_sends_now() {
    // `#` not in any pattern ends dialling: the complete number goes out without the timer.
    assert_eq!(dial(NANP, "01144#").1, number("01144"));
    assert_eq!(dial("{ 12 | 12x }", "12#").1, number("12"));
    // Nothing complete yet: reorder.
    assert_eq!(dial(NANP, "555#").1, Step::NoMatch(NoMatch::Invalid));
    // A pattern that expects `#` takes it as a digit.
    assert_eq!(dial("{ *xx*x+# | x+T }", "*72*123#").1, number("*72*123#"));
}

#[test]
fn grandstream_style_map() {
    // { x+ | \+x+ | *x+ | *xx*x+ } in Grandstream syntax; `+` cannot be dialled on a keypad
    // so the keypad subset is tested.
    let map = "{ x+T | *x+T | *xx*x+T }";
    let (mut c, step, at) = dial(map, "*21*5551");
    assert!(matches!(step, Step::NeedMore { .. }));
    assert_eq!(c.poll(at + T.interdigit_short), number("*21*5551"));
    let (mut c, _, at) = dial(map, "42");
    assert_eq!(c.poll(at + T.interdigit_short), number("42"));
}

#[test]
fn list_and_range_sets() {
    let map = "[1-357]xx";
    assert_eq!(dial(map, "512").1, number("512"));
    assert_eq!(dial(map, "712").1, number("712"));
    assert_eq!(dial(map, "4").1, Step::NoMatch(NoMatch::Invalid));
    assert_eq!(dial(map, "6").1, Step::NoMatch(NoMatch::Invalid));
}

#[test]
fn no_digit_before_the_first_digit_timer() {
    let t0 = Instant::now();
    let (mut c, _) = Collector::start(DigitMap::parse("x.T").unwrap(), T, LineMode::Normal, t0);
    assert_eq!(c.poll(t0 + T.first_digit), Step::NoMatch(NoMatch::NoDigits));
}

#[test]
fn hotline_matches_immediately() {
    let t0 = Instant::now();
    let target = "sip:operator@127.0.0.1".to_string();
    let (c, step) = Collector::start(
        DigitMap::parse("x").unwrap(),
        T,
        LineMode::Hotline {
            target: target.clone(),
        },
        t0,
    );
    assert_eq!(step, Step::Match(Dialed::Line(target)));
    assert!(c.result().is_some());
}

#[test]
fn warm_line_calls_after_the_delay_unless_a_digit_comes() {
    let t0 = Instant::now();
    let target = "sip:desk@127.0.0.1".to_string();
    let mode = LineMode::WarmLine {
        target: target.clone(),
        delay: Duration::from_secs(5),
    };
    let map = DigitMap::parse("xxx").unwrap();
    let (mut c, step) = Collector::start(map.clone(), T, mode.clone(), t0);
    assert_eq!(
        step,
        Step::NeedMore {
            deadline: t0 + Duration::from_secs(5)
        }
    );
    assert_eq!(
        c.poll(t0 + Duration::from_secs(5)),
        Step::Match(Dialed::Line(target))
    );

    let (mut c, _) = Collector::start(map, T, mode, t0);
    c.digit('2', ms(t0, 1000));
    assert_eq!(
        c.poll(t0 + Duration::from_secs(5)),
        Step::NeedMore {
            deadline: ms(t0, 1000) + T.interdigit_long
        }
    );
    c.digit('0', ms(t0, 5200));
    assert_eq!(c.digit('1', ms(t0, 5400)), number("201"));
}

#[test]
fn first_listed_pattern_wins_between_complete_ones() {
    let (mut c, _, at) = dial("{ <9:>xxT | 9xx.T }", "912");
    assert_eq!(c.poll(at + T.interdigit_short), number("12"));
}

#[test]
fn bad_symbols_end_collection() {
    let t0 = Instant::now();
    let (mut c, _) = Collector::start(DigitMap::parse("x").unwrap(), T, LineMode::Normal, t0);
    assert_eq!(c.digit('z', t0), Step::NoMatch(NoMatch::BadSymbol('z')));
}

fn map_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "x", "1", "2", "9", "*", "#", "[2-9]", "[1-357]", ".", "+", "T", "|", "<9:>", "<:+49>",
            "<0:00>", "<", ">", ":", "[", "]", "{", "}", "-", " ",
        ]),
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn collector_never_panics(map in map_strategy(), digits in "[0-9*#A-Dxz]{0,24}", gaps in prop::collection::vec(0u64..15_000, 24)) {
        let Ok(map) = DigitMap::parse(&map) else { return Ok(()) };
        let t0 = Instant::now();
        let (mut c, mut step) = Collector::start(map, T, LineMode::Normal, t0);
        let mut at = t0;
        for (d, gap) in digits.chars().zip(gaps) {
            at += Duration::from_millis(gap);
            step = c.poll(at);
            if !matches!(step, Step::NeedMore { .. }) { break; }
            step = c.digit(d, at);
            if let Step::NeedMore { deadline } = step {
                prop_assert!(deadline > at);
            }
        }
        if let Step::NeedMore { deadline } = step {
            let last = c.poll(deadline);
            let ended = !matches!(last, Step::NeedMore { .. });
            prop_assert!(ended, "still waiting after its deadline: {:?}", last);
        }
    }

    #[test]
    fn parser_never_panics(text in "\\PC{0,40}") {
        let _ = DigitMap::parse(&text);
    }
}

#[test]
fn cisco_spa_style_map() {
    // A Cisco SPA-style map: 7-digit local numbers get the area code, 1+10 digits as they
    // are, international after the timer, star and hash codes.
    let map = "(<:1408>[2-9]xxxxxx | 1[2-9]xx[2-9]xxxxxx | 011xx. | [*#]xx)";
    assert_eq!(dial(map, "5551234").1, number("14085551234"));
    assert_eq!(dial(map, "14155551234").1, number("14155551234"));
    assert_eq!(dial(map, "*67").1, number("*67"));
    assert_eq!(dial(map, "#31").1, number("#31"));
    // `011xx.` is complete from 01112 on and keeps growing: the short timer sends it,
    // and `#` sends it at once.
    let (mut c, _, at) = dial(map, "011493012345");
    assert_eq!(c.poll(at + T.interdigit_short), number("011493012345"));
    assert_eq!(dial(map, "01149301#").1, number("01149301"));
    // A 1 followed by a 0/1 area code matches nothing.
    assert_eq!(dial(map, "10").1, Step::NoMatch(NoMatch::Invalid));
}

/// The map as an allow-list of whole numbers: extensions and 911 pass; star codes, premium
/// and international numbers, `+` and partial numbers do not.
#[test]
fn allow_list_takes_whole_numbers_only() {
    let allow = DigitMap::parse("{ [1-8]xx | 911 }").unwrap();
    for ok in ["100", "899", "911", "112"] {
        assert!(allow.allows(ok), "{ok}");
    }
    for no in [
        "",
        "10",
        "1000",
        "*72",
        "*7215550100",
        "19005550199",
        "+15550100",
        "011441234",
        "900",
        "9555",
    ] {
        assert!(!allow.allows(no), "{no}");
    }
    let timed = DigitMap::parse("9x.T").unwrap();
    assert!(timed.allows("9555") && !timed.allows("8555"));
    assert!(allow.admits_prefix("") && allow.admits_prefix("1") && allow.admits_prefix("91"));
    assert!(allow.admits_prefix("911") && !allow.admits_prefix("9112"));
    assert!(!allow.admits_prefix("*") && !allow.admits_prefix("0"));
}
