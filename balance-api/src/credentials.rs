//! [`Credentials`]: who the client authenticates as. Secrets never leave through `Debug`.

use crate::{AccountSid, BuildError};
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

/// Which check a part of the credentials failed. The messages are fixed strings, so no value
/// leaks; [`from_vars`](crate::ClientBuilder) names the variable that held the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Invalid {
    #[error("the Auth Token is empty")]
    AuthTokenEmpty,
    /// A space, a control or invisible character such as a byte-order mark or a zero-width space.
    #[error("the Auth Token contains whitespace, control or non-ASCII characters")]
    AuthTokenCharacters,
    #[error("the API Key SID is not SK followed by 32 hex digits")]
    ApiKeySid,
    #[error("the API Key secret is empty")]
    ApiSecretEmpty,
    #[error("the API Key secret contains whitespace, control or non-ASCII characters")]
    ApiSecretCharacters,
}

impl Invalid {
    /// The environment variable that holds the part at fault.
    pub(crate) fn variable(self) -> &'static str {
        match self {
            Self::AuthTokenEmpty | Self::AuthTokenCharacters => "TWILIO_AUTH_TOKEN",
            Self::ApiKeySid => "TWILIO_API_KEY",
            Self::ApiSecretEmpty | Self::ApiSecretCharacters => "TWILIO_API_SECRET",
        }
    }
}

impl From<Invalid> for BuildError {
    fn from(rule: Invalid) -> Self {
        Self::new(rule.to_string())
    }
}

impl Credentials {
    /// The account's own SID and Auth Token.
    pub fn auth_token(
        account_sid: AccountSid,
        token: impl Into<String>,
    ) -> Result<Self, BuildError> {
        Ok(Self::checked_auth_token(account_sid, token.into())?)
    }

    pub(crate) fn checked_auth_token(
        account_sid: AccountSid,
        token: String,
    ) -> Result<Self, Invalid> {
        let secret = checked_secret(token, Invalid::AuthTokenEmpty, Invalid::AuthTokenCharacters)?;
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
    ) -> Result<Self, BuildError> {
        Ok(Self::checked_api_key(account_sid, key_sid, secret.into())?)
    }

    pub(crate) fn checked_api_key(
        account_sid: AccountSid,
        key_sid: &str,
        secret: String,
    ) -> Result<Self, Invalid> {
        // Twilio API Key SIDs are `SK` and 32 hex digits; the Balance fragment does not define them.
        let hex = key_sid.strip_prefix("SK").unwrap_or_default();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Invalid::ApiKeySid);
        }
        let secret = checked_secret(
            secret,
            Invalid::ApiSecretEmpty,
            Invalid::ApiSecretCharacters,
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

/// Refuses secrets that cannot be right: Twilio's are printable ASCII, so anything else (a
/// byte-order mark or zero-width space pasted along) is a mistake that would only fail at
/// Twilio. The messages are fixed strings, so no value leaks.
fn checked_secret(
    secret: String,
    if_empty: Invalid,
    if_odd: Invalid,
) -> Result<SecretString, Invalid> {
    if secret.is_empty() {
        return Err(if_empty);
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(if_odd);
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
