//! The `[feature_codes]` table: the North American defaults ([`FeatureCode::default_code`])
//! with the file's changes, one key per feature; an empty string switches a code off.

use crate::call::{FeatureCode, FeatureCodes, valid_code};
use std::collections::BTreeMap;

/// The table `changes` makes of the defaults, or every problem as (field, message).
pub fn feature_codes(
    changes: &BTreeMap<String, String>,
) -> Result<FeatureCodes, Vec<(String, String)>> {
    let mut errs = Vec::new();
    for key in changes.keys() {
        if !FeatureCode::ALL.iter().any(|c| c.name() == key) {
            let names: Vec<&str> = FeatureCode::ALL.iter().map(|c| c.name()).collect();
            errs.push((
                format!("feature_codes.{key}"),
                format!("unknown feature (expected one of {})", names.join(", ")),
            ));
        }
    }
    let mut codes: Vec<(String, FeatureCode)> = Vec::new();
    for c in FeatureCode::ALL {
        let code = changes
            .get(c.name())
            .map_or(c.default_code(), String::as_str);
        if code.is_empty() {
            continue;
        }
        let field = format!("feature_codes.{}", c.name());
        if !valid_code(code) {
            errs.push((
                field,
                format!("\"{code}\" is not a code: 2 to 8 of 0-9 * #, starting with * or #"),
            ));
            continue;
        }
        // A code that starts another could never be dialled whole.
        if let Some((other, o)) = codes
            .iter()
            .find(|(other, _)| other.starts_with(code) || code.starts_with(other.as_str()))
        {
            errs.push((
                field,
                format!(
                    "\"{code}\" clashes with feature_codes.{} = \"{other}\" (one starts the other)",
                    o.name()
                ),
            ));
            continue;
        }
        codes.push((code.to_owned(), c));
    }
    if errs.is_empty() {
        Ok(FeatureCodes::new(codes))
    } else {
        Err(errs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Lookup;

    fn table(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_changes_and_switched_off_codes() {
        assert_eq!(feature_codes(&table(&[])), Ok(FeatureCodes::defaults()));
        let t = feature_codes(&table(&[
            ("do_not_disturb_on", "*99"),
            ("hide_caller_id_once", ""),
        ]))
        .unwrap();
        assert_eq!(t.lookup("*99"), Lookup::Code(FeatureCode::DoNotDisturbOn));
        assert_eq!(t.lookup("*78"), Lookup::None);
        assert_eq!(t.lookup("*67"), Lookup::None);
    }

    #[test]
    fn unknown_keys_bad_codes_and_clashes_are_named() {
        let errs = feature_codes(&table(&[
            ("dnd", "*78"),
            ("forward_busy_on", "90"),
            ("forward_always_on", "*7"),
        ]))
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert!(fields.contains(&"feature_codes.dnd"), "{errs:?}");
        assert!(
            fields.contains(&"feature_codes.forward_busy_on"),
            "{errs:?}"
        );
        // *7 starts *78 (do-not-disturb), *77 and *79.
        let clash = errs
            .iter()
            .find(|(f, _)| f == "feature_codes.forward_always_on")
            .expect("the clash is reported");
        assert!(clash.1.contains("clashes"), "{clash:?}");
    }
}
