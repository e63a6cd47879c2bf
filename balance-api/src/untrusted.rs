//! Showing text a server sent: control and format characters escaped, length bounded.
//!
//! A hostile server could put terminal escapes, carriage returns or bidi overrides into any
//! string it sends and forge what a terminal shows; every `Display` of such text goes through
//! [`Shown`], so nothing the client prints carries a raw control character it did not write.

use std::fmt::{self, Write};

/// Text as the client shows it: escaped, and cut after `max` characters with a `…`.
pub(crate) struct Shown<'a> {
    text: &'a str,
    max: usize,
}

impl<'a> Shown<'a> {
    /// For identifiers, links and snippets.
    pub(crate) fn escaped_short(text: &'a str) -> Self {
        Self { text, max: 200 }
    }

    /// For messages a person reads whole.
    pub(crate) fn escaped_long(text: &'a str) -> Self {
        Self { text, max: 1000 }
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.text.chars().enumerate() {
            if i == self.max {
                return f.write_char('…');
            }
            if needs_escape(c) {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// C0 and C1 controls (ESC, CR, the 8-bit CSI), DEL, and the invisible format characters that
/// reorder or hide text (bidi overrides and isolates, zero-width marks, line separators).
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_and_cuts() {
        let text = "ok\u{1b}[2K\rAC: 1000000.00 USD\u{9b}1A\u{202e}x";
        assert_eq!(
            Shown::escaped_short(text).to_string(),
            "ok\\u{1b}[2K\\u{d}AC: 1000000.00 USD\\u{9b}1A\\u{202e}x"
        );
        assert_eq!(
            Shown {
                text: "abcdef",
                max: 3
            }
            .to_string(),
            "abc…"
        );
        assert_eq!(Shown::escaped_short("naïve café").to_string(), "naïve café");
    }
}
