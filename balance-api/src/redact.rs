//! Keeping the client's secret out of everything a server sends back.
//!
//! A misbehaving proxy or a hostile server may echo the `Authorization` header into a body, a
//! header or a field of a 200; that text becomes values, error messages and log fields, so every
//! string the client hands out from a response passes [`Scrubber::result`] once, before it
//! leaves the attempt that received it.
//!
//! Every whole occurrence of a form, in any ASCII case (what echoes it may change the case), is
//! replaced, wherever it stands, in a single pass over the text (so the marker is never
//! scrubbed again). A secret shorter than 8 characters cannot be
//! scrubbed that way without mangling unrelated text (with the token `t`, every "t" would go),
//! so such a secret is replaced only where it stands as a word of its own, not glued to other
//! letters or digits: "not found" stays readable. Twilio's secrets are 32 characters, and the
//! `user:secret` pair and its base64 are always longer than 8, so they are replaced anywhere.

use crate::{Balance, Credentials, Error};
use secrecy::{ExposeSecret, SecretString};

const MARK: &str = "[redacted]";

/// Shorter forms are replaced only as words of their own.
const MIN_ANYWHERE: usize = 8;

/// The forms a secret travels in, longest first.
pub(crate) struct Scrubber {
    forms: Vec<SecretString>,
}

impl Scrubber {
    pub(crate) fn new(credentials: &Credentials) -> Self {
        let mut forms = Vec::new();
        for form in credentials.secret_forms() {
            // As it would appear inside a JSON string, where '/' may also be written "\/".
            let json = serde_json::to_string(&form).unwrap_or_default();
            let json = json.trim_matches('"').to_owned();
            forms.extend([json.replace('/', "\\/"), json, form]);
        }
        forms.retain(|f| !f.is_empty());
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Self {
            forms: forms.into_iter().map(SecretString::from).collect(),
        }
    }

    /// `text` with every whole occurrence of a form replaced, in one pass.
    pub(crate) fn clean(&self, text: &mut String) {
        // Most server text (a currency, a request id) is shorter than every form: no search.
        let present: Vec<&str> = (self.forms.iter())
            .map(|f| f.expose_secret())
            .filter(|f| {
                (text.as_bytes().windows(f.len())).any(|w| w.eq_ignore_ascii_case(f.as_bytes()))
            })
            .collect();
        if present.is_empty() {
            return;
        }
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let (mut out, mut rest, mut before) = (String::with_capacity(text.len()), &text[..], None);
        'scan: while let Some(c) = rest.chars().next() {
            for form in &present {
                // Every form is ASCII, so a match ends on a character boundary.
                let head = rest.as_bytes().get(..form.len());
                if !head.is_some_and(|head| head.eq_ignore_ascii_case(form.as_bytes())) {
                    continue;
                }
                let after = &rest[form.len()..];
                let glued = form.len() < MIN_ANYWHERE
                    && ((word(before) && word(form.chars().next()))
                        || (word(after.chars().next()) && word(form.chars().last())));
                if !glued {
                    out.push_str(MARK);
                    (rest, before) = (after, form.chars().last());
                    continue 'scan;
                }
            }
            out.push(c);
            (rest, before) = (&rest[c.len_utf8()..], Some(c));
        }
        *text = out;
    }

    /// Scrubs every server-provided string of a fetch's outcome.
    pub(crate) fn result(&self, outcome: &mut Result<Balance, Error>) {
        match outcome {
            Ok(balance) => balance.server_text().for_each(|t| self.clean(t)),
            Err(err) => err.server_text().into_iter().for_each(|t| self.clean(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber(token: &str) -> Scrubber {
        let sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().expect("sid");
        Scrubber::new(&Credentials::auth_token(sid, token).expect("credentials"))
    }

    fn cleaned(s: &Scrubber, text: &str) -> String {
        let mut text = text.to_owned();
        s.clean(&mut text);
        text
    }

    #[test]
    fn a_short_secret_leaves_other_words_and_the_marker_alone() {
        let s = scrubber("t");
        assert_eq!(cleaned(&s, "not found"), "not found");
        assert_eq!(cleaned(&s, "token t here"), "token [redacted] here");
        assert_eq!(cleaned(&s, "t"), "[redacted]");
    }

    #[test]
    fn whole_forms_go_and_the_longest_wins() {
        let token = "0123456789abcdef0123456789abcdef";
        let s = scrubber(token);
        let pair = format!("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:{token}");
        assert_eq!(cleaned(&s, &format!("got {pair}!")), "got [redacted]!");
        assert_eq!(cleaned(&s, &format!("({token})")), "([redacted])");
        assert_eq!(
            cleaned(&s, &format!("x{token}y")),
            "x[redacted]y",
            "glued or not"
        );
        assert_eq!(cleaned(&s, "no secret here"), "no secret here");
        let upper = token.to_ascii_uppercase();
        assert_eq!(cleaned(&s, &format!("echo {upper}")), "echo [redacted]");
    }

    #[test]
    fn json_escaped_forms_are_found() {
        let s = scrubber("a/b\"c\\d");
        assert_eq!(cleaned(&s, r#"x "a\/b\"c\\d" y"#), r#"x "[redacted]" y"#);
        assert_eq!(cleaned(&s, r#"x a/b\"c\\d y"#), "x [redacted] y");
    }
}
