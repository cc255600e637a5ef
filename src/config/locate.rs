//! From a field path (`ports[2].kind`) to the line it is written on, over the spans the
//! `toml` parser keeps. A path that is not in the file (a missing field) falls back to the
//! nearest enclosing table or array element that is.

use toml::de::{DeTable, DeValue};

/// Byte spans of a parsed TOML document.
pub(crate) struct Locator<'i> {
    text: &'i str,
    root: Option<toml::Spanned<DeTable<'i>>>,
}

impl<'i> Locator<'i> {
    /// Parses `text` for its spans; a syntax error leaves only offset-to-line mapping.
    pub(crate) fn new(text: &'i str) -> Self {
        Locator {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// 1-based line of byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// Line of the field at `path`, or of its nearest written ancestor.
    pub(crate) fn line(&self, path: &str) -> Option<usize> {
        let root = self.root.as_ref()?;
        let mut span = None;
        let mut table: Option<&DeTable<'i>> = Some(root.get_ref());
        let mut value: Option<&DeValue<'i>> = None;
        for seg in segments(path) {
            let next = match (seg, table, value) {
                (Segment::Key(k), Some(t), _) => t.get(k),
                (Segment::Index(i), _, Some(DeValue::Array(a))) => a.get(i),
                _ => None,
            };
            let Some(next) = next else { break };
            span = Some(next.span());
            value = Some(next.get_ref());
            table = next.get_ref().as_table();
        }
        span.map(|s| self.line_of(s.start))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

/// Splits `a.b[2].c` into `a`, `b`, `2`, `c`.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let Some(close) = r.find(']') else { break };
            if let Ok(i) = r[..close].parse() {
                out.push(Segment::Index(i));
            }
            rest = &r[close + 1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "board = \"sim\"\n\n[[ports]]\nindex = 0\n\n[[ports]]\nindex = 1\nkind = \"fxo\"\n\n[dial_plans]\nus = \"x\"\n";

    #[test]
    fn finds_lines_of_fields_and_array_elements() {
        let l = Locator::new(DOC);
        assert_eq!(l.line("board"), Some(1));
        assert_eq!(l.line("ports[1].kind"), Some(8));
        assert_eq!(l.line("ports[0].index"), Some(4));
        assert_eq!(l.line("dial_plans.us"), Some(11));
    }

    #[test]
    fn missing_field_falls_back_to_its_table() {
        let l = Locator::new(DOC);
        let table = l.line("ports[0]").unwrap();
        assert_eq!(l.line("ports[0].kind"), Some(table));
        assert!(table <= 4);
    }

    #[test]
    fn splits_paths() {
        assert_eq!(
            segments("a.b[2].c"),
            vec![
                Segment::Key("a"),
                Segment::Key("b"),
                Segment::Index(2),
                Segment::Key("c")
            ]
        );
    }
}
