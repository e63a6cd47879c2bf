//! Text from Twilio or a config, escaped for each output format that shows it: one escaper per
//! format, each named for it. (The library's errors escape their own text for `Display`.)

use std::fmt::Write as _;

/// Text as a person may safely see it, on a terminal or a page: control and invisible format
/// characters (bidi overrides, zero-width spaces) written as `\u{…}` escapes, the rest as is.
pub fn terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // escape_debug's own escapes for these are for Rust literals, not for people.
            '\\' | '"' | '\'' => out.push(c),
            c => out.extend(c.escape_debug()),
        }
    }
    out
}

/// A label value in the exposition format: any Unicode exactly, with its escapes for `\`, `"`
/// and a line feed. Other control characters, which it has no escape for and a config name
/// cannot hold, can only come from a server: each becomes U+FFFD.
pub fn prometheus_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    out
}

/// JSON with every non-ASCII character and DEL written as `\u` escapes: the same value, and no
/// byte a terminal could take for a control sequence (serde_json leaves DEL, C1 controls and
/// bidi marks raw; it escapes the other ASCII controls itself).
pub fn json_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

/// Text as HTML: the five characters that could start markup or end an attribute, escaped.
pub fn html(text: &str) -> String {
    // `&` first, so the entities the others become are left alone.
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
