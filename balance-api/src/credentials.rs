//! [`Credentials`]: who the client authenticates as. Secrets never leave through `Debug`.

use crate::AccountSid;
use base64::Engine;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// HTTP basic credentials for the Balance call, plus the account they act for.
///
/// ```
/// use balance_api::{AccountSid, Credentials};
///
/// let account: AccountSid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
/// let creds = Credentials::auth_token(account, "my-auth-token")?;
/// assert!(!format!("{creds:?}").contains("my-auth-token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Credentials {
    account_sid: AccountSid,
    username: String,
    secret: SecretString,
}

/// Credentials that cannot be used; the message names the part, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct InvalidCredentials {
    pub(crate) problem: &'static str,
    /// Whether the secret (rather than a SID) is at fault, so callers can name the right setting.
    pub(crate) secret: bool,
}

impl InvalidCredentials {
    /// The environment variable that would hold the part at fault, for API Key credentials.
    pub(crate) fn variable(&self) -> &'static str {
        if self.secret {
            "TWILIO_API_SECRET"
        } else {
            "TWILIO_API_KEY"
        }
    }
}

impl Credentials {
    /// The account's own SID and Auth Token.
    pub fn auth_token(
        account_sid: AccountSid,
        token: impl Into<String>,
    ) -> Result<Self, InvalidCredentials> {
        let secret = checked_secret(
            token.into(),
            "the Auth Token is empty",
            "the Auth Token contains whitespace or control characters",
        )?;
        let username = account_sid.as_str().to_owned();
        Ok(Self {
            account_sid,
            username,
            secret,
        })
    }

    /// An API Key (`SK…`) and its secret, acting for `account_sid`.
    ///
    /// ```
    /// use balance_api::Credentials;
    ///
    /// let account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
    /// let creds = Credentials::api_key(account, "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "key-secret")?;
    /// assert_eq!(creds.username(), "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_key(
        account_sid: AccountSid,
        key_sid: &str,
        secret: impl Into<String>,
    ) -> Result<Self, InvalidCredentials> {
        // Twilio API Key SIDs are `SK` and 32 hex digits; the Balance fragment does not define them.
        let hex = key_sid.strip_prefix("SK").unwrap_or_default();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidCredentials {
                problem: "the API Key SID is not SK followed by 32 hex digits",
                secret: false,
            });
        }
        let secret = checked_secret(
            secret.into(),
            "the API Key secret is empty",
            "the API Key secret contains whitespace or control characters",
        )?;
        Ok(Self {
            account_sid,
            username: key_sid.to_owned(),
            secret,
        })
    }

    /// The account whose balance `fetch_balance` returns.
    pub fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }

    /// The basic-auth user name: the Account SID or the API Key SID.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Whether these are API Key credentials (`SK…`) rather than an Auth Token.
    pub(crate) fn is_api_key(&self) -> bool {
        self.username != self.account_sid.as_str()
    }

    /// The `Authorization` header value, marked sensitive so HTTP layers do not log it.
    pub(crate) fn authorization(&self) -> HeaderValue {
        let mut value = HeaderValue::try_from(format!("Basic {}", self.encoded_pair()))
            .expect("base64 output is always a valid header value");
        value.set_sensitive(true);
        value
    }

    fn encoded_pair(&self) -> String {
        let pair = format!("{}:{}", self.username, self.secret.expose_secret());
        base64::engine::general_purpose::STANDARD.encode(pair)
    }

    /// Every form the secret travels in: itself, `user:secret`, and the base64 of that pair
    /// (padded and not), for scrubbing server text.
    pub(crate) fn secret_forms(&self) -> Vec<String> {
        let secret = self.secret.expose_secret();
        let encoded = self.encoded_pair();
        vec![
            secret.to_owned(),
            format!("{}:{secret}", self.username),
            encoded.trim_end_matches('=').to_owned(),
            encoded,
        ]
    }
}

/// Refuses secrets that cannot be right; the messages are fixed strings, so no value leaks.
fn checked_secret(
    secret: String,
    if_empty: &'static str,
    if_spaced: &'static str,
) -> Result<SecretString, InvalidCredentials> {
    if secret.is_empty() {
        return Err(InvalidCredentials {
            problem: if_empty,
            secret: true,
        });
    }
    if secret.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InvalidCredentials {
            problem: if_spaced,
            secret: true,
        });
    }
    Ok(SecretString::from(secret))
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("account_sid", &self.account_sid)
            .field("username", &self.username)
            .field("secret", &"[redacted]")
            .finish()
    }
}
