//! Analog call control: one sans-IO state machine per line-card port.
//!
//! [`fxs::FxsPort`] serves a phone (or a PBX trunk) hanging on an FXS port, [`fxo::FxoPort`]
//! a PBX extension or PSTN line on an FXO port. Both are fed `(now, Input)` and return the
//! [`Output`]s to carry out (line-card commands, tones, SIP intents, media control) and
//! report their next deadline; the runtime calls `poll(now)` when it passes. Digits are
//! matched by a [`DigitCollector`] (the dial plan implements it).

pub mod caller_id;
mod collector;
mod events;
mod feature;
pub mod fxo;
pub mod fxs;
mod timers;

#[cfg(test)]
pub use collector::LengthCollector;
pub use collector::{Collect, DigitCollector};
pub use events::{
    CallerInfo, Input, LineAudio, MediaCmd, Output, ProgressTone, SipEvent, SipIntent,
};
pub use feature::{Feature, FeatureCode, FeatureCodes, ForwardWhen, Lookup, Service, valid_code};
