//! Feature codes ("star codes"): short codes a phone on an FXS port dials to switch its
//! services (do-not-disturb, forwarding, anonymous call rejection) or to change one call
//! (caller ID withheld or shown). The defaults are the North American vertical service
//! codes (NANP VSC list, as most ATAs ship them); each is configurable or can be switched
//! off. FXO lines never recognise codes: a PSTN caller must not reconfigure the box.

/// When a forwarding applies (the three of the SPA/Grandstream admin guides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardWhen {
    /// Every call, without ringing.
    Always,
    /// When the phone is in a call.
    Busy,
    /// When the phone rang unanswered.
    NoAnswer,
}

/// A setting of the port's phone services, kept by the SIP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// Refuse every call with 486 (on) or ring again (off).
    DoNotDisturb(bool),
    /// Refuse callers who withhold their identity with 433 (RFC 5079).
    RejectAnonymous(bool),
    /// Forward `when` to the number dialled after the code, or stop (`None`).
    Forward(ForwardWhen, Option<String>),
}

/// What a dialled code asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    /// Change a setting (confirmed once the SIP side has applied it).
    Service(Service),
    /// This call only: withhold (`true`, RFC 3323 `Privacy: id`) or present (`false`) the
    /// caller ID, whatever the port's setting.
    CallerIdOnce(bool),
    /// This call only: no call waiting (a second caller gets busy).
    NoCallWaitingOnce,
}

/// What a code names, before the number it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureCode {
    DoNotDisturbOn,
    DoNotDisturbOff,
    RejectAnonymousOn,
    RejectAnonymousOff,
    /// Takes the number to forward to.
    ForwardOn(ForwardWhen),
    ForwardOff(ForwardWhen),
    HideCallerIdOnce,
    ShowCallerIdOnce,
    CancelCallWaitingOnce,
}

impl FeatureCode {
    pub const ALL: [FeatureCode; 13] = [
        FeatureCode::DoNotDisturbOn,
        FeatureCode::DoNotDisturbOff,
        FeatureCode::RejectAnonymousOn,
        FeatureCode::RejectAnonymousOff,
        FeatureCode::ForwardOn(ForwardWhen::Always),
        FeatureCode::ForwardOff(ForwardWhen::Always),
        FeatureCode::ForwardOn(ForwardWhen::Busy),
        FeatureCode::ForwardOff(ForwardWhen::Busy),
        FeatureCode::ForwardOn(ForwardWhen::NoAnswer),
        FeatureCode::ForwardOff(ForwardWhen::NoAnswer),
        FeatureCode::HideCallerIdOnce,
        FeatureCode::ShowCallerIdOnce,
        FeatureCode::CancelCallWaitingOnce,
    ];

    /// Its key in the configuration's `[feature_codes]` table.
    pub fn name(self) -> &'static str {
        use ForwardWhen::*;
        match self {
            FeatureCode::DoNotDisturbOn => "do_not_disturb_on",
            FeatureCode::DoNotDisturbOff => "do_not_disturb_off",
            FeatureCode::RejectAnonymousOn => "reject_anonymous_on",
            FeatureCode::RejectAnonymousOff => "reject_anonymous_off",
            FeatureCode::ForwardOn(Always) => "forward_always_on",
            FeatureCode::ForwardOff(Always) => "forward_always_off",
            FeatureCode::ForwardOn(Busy) => "forward_busy_on",
            FeatureCode::ForwardOff(Busy) => "forward_busy_off",
            FeatureCode::ForwardOn(NoAnswer) => "forward_no_answer_on",
            FeatureCode::ForwardOff(NoAnswer) => "forward_no_answer_off",
            FeatureCode::HideCallerIdOnce => "hide_caller_id_once",
            FeatureCode::ShowCallerIdOnce => "show_caller_id_once",
            FeatureCode::CancelCallWaitingOnce => "cancel_call_waiting",
        }
    }

    /// The North American vertical service code for it.
    pub fn default_code(self) -> &'static str {
        use ForwardWhen::*;
        match self {
            FeatureCode::DoNotDisturbOn => "*78",
            FeatureCode::DoNotDisturbOff => "*79",
            FeatureCode::RejectAnonymousOn => "*77",
            FeatureCode::RejectAnonymousOff => "*87",
            FeatureCode::ForwardOn(Always) => "*72",
            FeatureCode::ForwardOff(Always) => "*73",
            FeatureCode::ForwardOn(Busy) => "*90",
            FeatureCode::ForwardOff(Busy) => "*91",
            FeatureCode::ForwardOn(NoAnswer) => "*92",
            FeatureCode::ForwardOff(NoAnswer) => "*93",
            FeatureCode::HideCallerIdOnce => "*67",
            FeatureCode::ShowCallerIdOnce => "*82",
            FeatureCode::CancelCallWaitingOnce => "*70",
        }
    }

    /// Whether a number is dialled after the code (the forwarding target).
    pub fn takes_number(self) -> bool {
        matches!(self, FeatureCode::ForwardOn(_))
    }

    /// The feature, with the number dialled after the code where it takes one.
    pub fn feature(self, number: Option<String>) -> Feature {
        match self {
            FeatureCode::DoNotDisturbOn => Feature::Service(Service::DoNotDisturb(true)),
            FeatureCode::DoNotDisturbOff => Feature::Service(Service::DoNotDisturb(false)),
            FeatureCode::RejectAnonymousOn => Feature::Service(Service::RejectAnonymous(true)),
            FeatureCode::RejectAnonymousOff => Feature::Service(Service::RejectAnonymous(false)),
            FeatureCode::ForwardOn(w) => Feature::Service(Service::Forward(w, number)),
            FeatureCode::ForwardOff(w) => Feature::Service(Service::Forward(w, None)),
            FeatureCode::HideCallerIdOnce => Feature::CallerIdOnce(true),
            FeatureCode::ShowCallerIdOnce => Feature::CallerIdOnce(false),
            FeatureCode::CancelCallWaitingOnce => Feature::NoCallWaitingOnce,
        }
    }
}

/// Whether a code is well formed: 2 to 8 of `0-9 * #`, starting with `*` or `#` so that
/// no ordinary number is taken for one.
pub fn valid_code(code: &str) -> bool {
    (2..=8).contains(&code.len())
        && code.starts_with(['*', '#'])
        && code
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

/// What the digits dialled so far are to the code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Exactly this code.
    Code(FeatureCode),
    /// The start of at least one code.
    Prefix,
    /// No code.
    None,
}

/// A port's codes. Validated so that none is a prefix of another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureCodes(Vec<(String, FeatureCode)>);

impl FeatureCodes {
    /// The North American defaults.
    pub fn defaults() -> Self {
        FeatureCodes(
            FeatureCode::ALL
                .iter()
                .map(|&c| (c.default_code().to_owned(), c))
                .collect(),
        )
    }

    /// The given codes (already validated).
    pub fn new(codes: Vec<(String, FeatureCode)>) -> Self {
        FeatureCodes(codes)
    }

    /// No codes at all (FXO lines, a port with codes switched off).
    pub fn none() -> Self {
        FeatureCodes(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What `dialled` is to the table.
    pub fn lookup(&self, dialled: &str) -> Lookup {
        if let Some((_, c)) = self.0.iter().find(|(code, _)| code == dialled) {
            return Lookup::Code(*c);
        }
        if self.0.iter().any(|(code, _)| code.starts_with(dialled)) {
            return Lookup::Prefix;
        }
        Lookup::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_distinct_and_prefix_free() {
        let d = FeatureCodes::defaults();
        for (i, (a, _)) in d.0.iter().enumerate() {
            assert!(valid_code(a), "{a}");
            for (b, _) in &d.0[i + 1..] {
                assert!(!a.starts_with(b.as_str()) && !b.starts_with(a.as_str()));
            }
        }
        let names: std::collections::BTreeSet<_> =
            FeatureCode::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), FeatureCode::ALL.len());
    }

    #[test]
    fn lookup_tells_codes_prefixes_and_numbers_apart() {
        let d = FeatureCodes::defaults();
        assert_eq!(d.lookup("*"), Lookup::Prefix);
        assert_eq!(d.lookup("*7"), Lookup::Prefix);
        assert_eq!(d.lookup("*78"), Lookup::Code(FeatureCode::DoNotDisturbOn));
        assert_eq!(d.lookup("*5"), Lookup::None);
        assert_eq!(d.lookup("2"), Lookup::None);
        assert_eq!(FeatureCodes::none().lookup("*"), Lookup::None);
    }

    #[test]
    fn codes_must_start_with_star_or_hash_and_be_short() {
        assert!(valid_code("*72"));
        assert!(valid_code("#31#"));
        assert!(!valid_code("72"));
        assert!(!valid_code("*"));
        assert!(!valid_code("*123456789"));
        assert!(!valid_code("*7a"));
    }

    #[test]
    fn forwarding_takes_the_number_dialled_after_it() {
        let on = FeatureCode::ForwardOn(ForwardWhen::Busy);
        assert!(on.takes_number());
        assert_eq!(
            on.feature(Some("300".into())),
            Feature::Service(Service::Forward(ForwardWhen::Busy, Some("300".into())))
        );
        assert!(!FeatureCode::HideCallerIdOnce.takes_number());
        assert_eq!(
            FeatureCode::HideCallerIdOnce.feature(None),
            Feature::CallerIdOnce(true)
        );
    }
}
