//! The configuration as the admin page shows and saves it.
//!
//! Secrets never reach the browser: the value of every `password` and `password_hash` key
//! is shown as [`KEPT`], and a submitted `KEPT` is put back from the running configuration
//! (the same key's same occurrence, in file order) before the text is validated exactly as
//! `tipring check-config` does. A saved configuration goes to `[web] file` and is applied
//! by running the gateway again with it once every line is idle; if it then fails to start,
//! the previous one runs again (`tipring run`).

use crate::config::{self, Loaded};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What the page shows in place of a secret, and what keeps it when submitted.
pub const KEPT: &str = "(kept)";
/// Keys whose values are secrets.
const SECRET_KEYS: &[&str] = &["password", "password_hash"];

/// `key = "value"` or `key = 'value'` on one line: the key and where the quoted value is.
fn secret_value(line: &str) -> Option<(&str, Range<usize>)> {
    let start = line.len() - line.trim_start().len();
    let rest = &line[start..];
    let key_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    let key = &rest[..key_len];
    if !SECRET_KEYS.contains(&key) {
        return None;
    }
    let after_key = &rest[key_len..];
    let eq = after_key.trim_start().strip_prefix('=')?;
    let value = eq.trim_start();
    let from = line.len() - value.len();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut escaped = false;
    for (i, c) in value.char_indices().skip(1) {
        match c {
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return Some((key, from..from + i + 1)),
            _ => escaped = false,
        }
    }
    None
}

/// `text` with every secret's value shown as [`KEPT`].
pub fn mask(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| match secret_value(line) {
            Some((_, r)) => format!("{}\"{KEPT}\"{}", &line[..r.start], &line[r.end..]),
            None => line.to_owned(),
        })
        .collect()
}

/// A [`KEPT`] value with no secret at its place in the running configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "line {line}: {key}: \"{KEPT}\" keeps the running configuration's value, which has no \
     {key} at this place; type the value"
)]
pub struct NothingKept {
    pub line: usize,
    pub key: String,
}

/// `submitted` with each [`KEPT`] replaced by the running configuration's value of the same
/// key at the same occurrence.
pub fn unmask(submitted: &str, running: &str) -> Result<String, NothingKept> {
    let secrets: Vec<(&str, &str)> = running
        .lines()
        .filter_map(|l| secret_value(l).map(|(k, r)| (k, &l[r])))
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::with_capacity(submitted.len());
    for (n, line) in submitted.split_inclusive('\n').enumerate() {
        let Some((key, r)) = secret_value(line) else {
            out.push_str(line);
            continue;
        };
        let occurrence = seen.iter().filter(|k| **k == key).count();
        seen.push(key);
        if &line[r.start + 1..r.end - 1] != KEPT {
            out.push_str(line);
            continue;
        }
        let value = secrets
            .iter()
            .filter(|(k, _)| *k == key)
            .nth(occurrence)
            .map(|(_, v)| *v)
            .ok_or_else(|| NothingKept {
                line: n + 1,
                key: key.to_owned(),
            })?;
        out.push_str(&line[..r.start]);
        out.push_str(value);
        out.push_str(&line[r.end..]);
    }
    Ok(out)
}

/// Writes `text` to `path` as provisioning keeps its files (mode 0640, through a rename).
pub fn save(path: &Path, text: &str) -> std::io::Result<()> {
    super::super::provision::keep(path, text)
}

/// The configuration to start with when nothing provisions the box: the one saved on the
/// page when it is newer than `base_path` (an edit of that file by hand wins over an
/// older save) and loads, else the base. Returns it with its text and one line saying
/// which.
pub fn startup(
    base: Loaded,
    base_text: String,
    base_path: &Path,
    board_dir: &Path,
) -> (Loaded, String, String) {
    let saved = base.config.web.file_path_from_env();
    let Some(saved) = saved.filter(|_| base.config.provisioning.url.is_none()) else {
        return (base, base_text, String::new());
    };
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newer = match (modified(&saved), modified(base_path)) {
        (Some(s), Some(b)) => s > b,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !newer {
        return (base, base_text, String::new());
    }
    let Ok(text) = std::fs::read_to_string(&saved) else {
        return (base, base_text, String::new());
    };
    match config::load_str(&saved.display().to_string(), &text, board_dir) {
        Ok(l) => (
            l,
            text,
            format!(
                "running the configuration saved on the page ({})",
                saved.display()
            ),
        ),
        Err(e) => (
            base,
            base_text,
            format!("{} does not load, not used: {e}", saved.display()),
        ),
    }
}

/// Moves a saved configuration that failed to start out of the way (to `….failed`), so
/// that the next start does not pick it again.
pub fn set_aside(saved: &Path) -> Option<PathBuf> {
    let aside = saved.with_extension("toml.failed");
    std::fs::rename(saved, &aside).ok().map(|()| aside)
}

/// Now as RFC 3339, for the page's messages.
pub fn now() -> String {
    super::super::timestamp::rfc3339(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNING: &str = "[[accounts]]\nname = \"a\"\npassword = \"s3cr\\\"et\"\n\
        [[accounts]]\nname = \"b\"\n  password='lit'\n[web]\npassword_hash = \"$argon2id$x\"\n";

    #[test]
    fn secrets_are_masked_and_the_rest_kept_as_written() {
        let m = mask(RUNNING);
        assert!(!m.contains("s3cr") && !m.contains("lit") && !m.contains("argon2id"));
        assert_eq!(m.matches(KEPT).count(), 3);
        assert!(m.contains("  password=\"(kept)\"\n"), "{m}");
        assert!(m.contains("name = \"b\""));
    }

    #[test]
    fn kept_values_come_back_from_the_same_place() {
        let submitted = mask(RUNNING).replace("name = \"b\"", "name = \"c\"");
        let back = unmask(&submitted, RUNNING).unwrap();
        assert_eq!(back, RUNNING.replace("name = \"b\"", "name = \"c\""));
    }

    #[test]
    fn a_typed_secret_replaces_the_kept_one() {
        let submitted = mask(RUNNING).replacen("\"(kept)\"", "\"new\"", 1);
        let back = unmask(&submitted, RUNNING).unwrap();
        assert!(back.contains("password = \"new\"") && back.contains("'lit'"));
    }

    #[test]
    fn a_kept_value_with_nothing_to_keep_names_its_line() {
        let submitted = format!("{}[[accounts]]\npassword = \"(kept)\"\n", mask(RUNNING));
        let e = unmask(&submitted, RUNNING).unwrap_err();
        assert_eq!(e.key, "password");
        assert_eq!(e.line, 10);
    }

    proptest::proptest! {
        /// Any text, as submitted: masking and unmasking never panic.
        #[test]
        fn any_text_is_handled(a in "\\PC{0,200}", b in "\\PC{0,200}") {
            let _ = mask(&a);
            let _ = unmask(&a, &b);
        }

        /// A configuration shown and submitted unchanged comes back as it was.
        #[test]
        fn masking_round_trips(text in "(( ?(password|password_hash|name) ?= ?(\"[^\"\\\\\n()]{0,8}\"|'[^'\n()]{0,8}'|[0-9]{1,3}))?\n){0,10}") {
            let shown = mask(&text);
            proptest::prop_assert_eq!(unmask(&shown, &text), Ok(text));
        }
    }

    #[test]
    fn lookalike_keys_and_unquoted_values_are_not_secrets() {
        for line in [
            "password_file = \"x\"",
            "# password = \"x\"",
            "password = 3",
        ] {
            assert_eq!(mask(line), line);
        }
    }
}
