//! [`AccountSid`]: a SID checked against the spec's rule before it can reach a request.

use balance_api_gen::fetch_balance;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A Twilio Account SID (`AC` and 32 hex digits), validated by the type generated from the
/// spec's `AccountSid` parameter: the rule is Twilio's, not a copy. Deserializing validates too,
/// and its JSON Schema is the parameter's as the spec states it.
///
/// ```
/// use balance_api::AccountSid;
///
/// let sid: AccountSid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
/// assert_eq!(sid.as_str(), "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
/// assert!("AC123".parse::<AccountSid>().is_err());
///
/// let json = serde_json::to_string(&sid).unwrap();
/// assert_eq!(serde_json::from_str::<AccountSid>(&json).unwrap(), sid);
/// assert!(serde_json::from_str::<AccountSid>(r#""AC123""#).is_err());
/// # Ok::<(), balance_api::InvalidSid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountSid(fetch_balance::AccountSid);

impl AccountSid {
    /// The SID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The generated parameter type.
    pub(crate) fn as_generated(&self) -> &fetch_balance::AccountSid {
        &self.0
    }
}

impl FromStr for AccountSid {
    type Err = InvalidSid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self).map_err(|e| InvalidSid {
            chars: s.chars().count(),
            reason: e.to_string(),
        })
    }
}

impl TryFrom<&str> for AccountSid {
    type Error = InvalidSid;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<String> for AccountSid {
    type Error = InvalidSid;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AccountSid> for String {
    fn from(sid: AccountSid) -> Self {
        sid.as_str().to_owned()
    }
}

impl AsRef<str> for AccountSid {
    fn as_ref(&self) -> &str {
        self.as_str()
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

impl schemars::JsonSchema for AccountSid {
    fn schema_name() -> Cow<'static, str> {
        "AccountSid".into()
    }

    fn inline_schema() -> bool {
        true
    }

    /// The spec's own schema for the parameter (length and pattern included), which the derive
    /// on the generated type cannot see.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        serde_json::from_str(balance_api_gen::ACCOUNT_SID_SCHEMA)
            .unwrap_or_else(|_| schemars::json_schema!({ "type": "string" }))
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
