//! The dial plan of the port-machine tests: the gateway's own collector on a map of three
//! digits, sent as soon as the third is dialled (4 s between digits at most).

use std::time::Duration;
use tipring::dialplan::{DigitMap, LineMode, Timers};
use tipring::port::PlanCollector;

pub fn three_digits() -> PlanCollector {
    PlanCollector::new(
        DigitMap::parse("xxx").expect("a valid digit map"),
        Timers {
            first_digit: Duration::from_secs(10),
            interdigit_short: Duration::from_secs(4),
            interdigit_long: Duration::from_secs(4),
        },
        LineMode::Normal,
    )
}
