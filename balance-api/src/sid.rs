//! [`AccountSid`]: a SID checked against the spec's pattern before it can reach a request.

use balance_api_gen::types::FetchBalanceAccountSid;
use std::fmt;
use std::str::FromStr;

/// A Twilio Account SID (`AC` and 32 hex digits), validated by the type generated from the
/// spec's `AccountSid` parameter: the rule is Twilio's, not a copy.
///
/// ```
/// use balance_api::AccountSid;
///
/// let sid: AccountSid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
/// assert_eq!(sid.as_str(), "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
/// assert!("AC123".parse::<AccountSid>().is_err());
/// # Ok::<(), balance_api::InvalidSid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountSid(FetchBalanceAccountSid);

impl AccountSid {
    /// The SID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The generated parameter type, for calling `balance_api_gen` directly.
    pub fn as_generated(&self) -> &FetchBalanceAccountSid {
        &self.0
    }
}

impl FromStr for AccountSid {
    type Err = InvalidSid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse()
            .map(Self)
            .map_err(
                |e: balance_api_gen::types::error::ConversionError| InvalidSid {
                    chars: s.chars().count(),
                    reason: e.to_string(),
                },
            )
    }
}

impl TryFrom<&str> for AccountSid {
    type Error = InvalidSid;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for AccountSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AccountSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AccountSid").field(&self.as_str()).finish()
    }
}

/// A string that is not an Account SID. The input itself is not repeated, since a mistyped
/// setting can hold a secret.
///
/// ```
/// let err = "AC123".parse::<balance_api::AccountSid>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid Account SID (5 characters): shorter than 34 characters");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Account SID ({chars} characters): {reason}")]
pub struct InvalidSid {
    chars: usize,
    reason: String,
}
