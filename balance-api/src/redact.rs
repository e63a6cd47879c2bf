//! Keeping the client's secret out of text a server sends back.
//!
//! A misbehaving proxy or a debug endpoint may echo the `Authorization` header into its error
//! body; that text becomes error messages and log fields, so the secret is cut out first.

use crate::Credentials;
use crate::error::{DecodeError, Error};
use secrecy::{ExposeSecret, SecretString};

/// The forms a secret travels in, to be replaced wherever server text is kept.
#[derive(Clone)]
pub(crate) struct Scrubber {
    forms: Vec<SecretString>,
}

const MARK: &str = "[redacted]";

impl Scrubber {
    pub(crate) fn new(credentials: &Credentials) -> Self {
        // Longest first, so "user:secret" goes whole rather than leaving "user:[redacted]".
        let mut forms = credentials.secret_forms();
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        Self {
            forms: forms.into_iter().map(SecretString::from).collect(),
        }
    }

    /// `text` with every form replaced.
    pub(crate) fn text(&self, mut text: String) -> String {
        self.clean(&mut text);
        text
    }

    /// A body with every form replaced; lossy for invalid UTF-8, which no caller decodes anyway
    /// (it only becomes a snippet or fails to parse as JSON either way).
    pub(crate) fn bytes<'a>(&self, body: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let found = self.forms.iter().any(|f| {
            let f = f.expose_secret().as_bytes();
            !f.is_empty() && body.windows(f.len()).any(|w| w == f)
        });
        if found {
            let text = self.text(String::from_utf8_lossy(body).into_owned());
            std::borrow::Cow::Owned(text.into_bytes())
        } else {
            std::borrow::Cow::Borrowed(body)
        }
    }

    fn clean(&self, text: &mut String) {
        for form in &self.forms {
            let form = form.expose_secret();
            if !form.is_empty() && text.contains(form) {
                *text = text.replace(form, MARK);
            }
        }
    }

    /// `err` with every server-provided text scrubbed.
    pub(crate) fn error(&self, mut err: Error) -> Error {
        match &mut err {
            Error::Api(api) => {
                self.clean(&mut api.message);
                api.details.iter_mut().for_each(|d| self.clean(d));
                api.more_info.iter_mut().for_each(|m| self.clean(m));
                api.request_id.iter_mut().for_each(|r| self.clean(r));
            }
            Error::Http(http) => {
                self.clean(&mut http.snippet);
                http.request_id.iter_mut().for_each(|r| self.clean(r));
            }
            Error::Decode(decode) => match decode.as_mut() {
                DecodeError::Json { reason, snippet } => {
                    self.clean(reason);
                    self.clean(snippet);
                }
                DecodeError::Balance { raw } | DecodeError::BalanceOutOfRange { raw } => {
                    self.clean(raw)
                }
                DecodeError::ContentType(content_type) => self.clean(content_type),
            },
            _ => {}
        }
        err
    }
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrubber([redacted])")
    }
}
