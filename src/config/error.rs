//! Configuration diagnostics: every problem names the file, the line, the field and what
//! would have been accepted, e.g. `tipring.toml:14: ports[2].kind: "fxx" is not one of fxs, fxo`.

use std::fmt;

/// One problem found in a configuration or board-profile file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line, when the problem can be tied to one.
    pub line: Option<usize>,
    /// The field path, e.g. `ports[2].kind` (`ports[2]` is the third `[[ports]]` table).
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Loading failed; nothing was applied. Holds every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// A single problem not tied to a line (e.g. the file cannot be read).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        ConfigError {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                line: None,
                field: String::new(),
                message: message.into(),
            }],
        }
    }
}

/// Rewrites serde's enum message (``unknown variant `fxx`, expected `fxs` or `fxo` ``) into
/// the house form (`"fxx" is not one of fxs, fxo`); other messages pass through.
pub(crate) fn reword(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown variant `") else {
        return message.to_string();
    };
    let Some((value, expected)) = rest.split_once("`, expected ") else {
        return message.to_string();
    };
    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
    // Case aliases (`US` beside `us`) are listed once, in lower case.
    let mut allowed: Vec<&str> = Vec::new();
    for w in expected
        .split(['`', ',', ' '])
        .filter(|w| !w.is_empty() && *w != "or")
    {
        match allowed.iter_mut().find(|a| a.eq_ignore_ascii_case(w)) {
            Some(a) if *w == w.to_ascii_lowercase() => *a = w,
            Some(_) => {}
            None => allowed.push(w),
        }
    }
    format!("\"{value}\" is not one of {}", allowed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewords_serde_variant_messages() {
        assert_eq!(
            reword("unknown variant `fxx`, expected `fxs` or `fxo`"),
            "\"fxx\" is not one of fxs, fxo"
        );
        assert_eq!(
            reword("unknown variant `sctp`, expected one of `udp`, `tcp`, `tls`"),
            "\"sctp\" is not one of udp, tcp, tls"
        );
        assert_eq!(
            reword("unknown variant `XX`, expected one of `US`, `us`, `DE`, `de`, `custom`"),
            "\"XX\" is not one of us, de, custom"
        );
        assert_eq!(reword("missing field `board`"), "missing field `board`");
    }

    #[test]
    fn displays_file_line_field_message() {
        let d = Diagnostic {
            file: "tipring.toml".into(),
            line: Some(14),
            field: "ports[2].kind".into(),
            message: "x".into(),
        };
        assert_eq!(d.to_string(), "tipring.toml:14: ports[2].kind: x");
    }
}
