//! [`Balance`]: the documented response, its amount as an exact decimal.

use crate::error::Decode;
use crate::untrusted::Shown;
use crate::{AccountSid, Decimal};
use balance_api_gen::fetch_balance;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// An account's balance. Every field is nullable in the spec, and Twilio documents that child
/// accounts carry no balance, so each accessor returns an `Option`: `None` means "Twilio sent no
/// value", never zero.
///
/// It serializes as the documented JSON, the amount as its exact decimal string (never a
/// float), plus the response's `request_id` when there was one; deserializing checks the body
/// the way a fetch does.
///
/// ```
/// use balance_api::Balance;
///
/// let body = r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"-12.3456789","currency":"USD"}"#;
/// let b: Balance = serde_json::from_str(body)?;
/// assert_eq!(b.amount().map(|d| d.to_string()).as_deref(), Some("-12.3456789"));
/// assert_eq!(b.currency(), Some("USD"));
/// assert_eq!(b.to_string(), "-12.3456789 USD");
/// assert_eq!(serde_json::to_string(&b)?, body);
/// assert!(serde_json::from_str::<Balance>(r#"{"balance":"1e3"}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct Balance {
    /// The account the balance belongs to.
    account_sid: Option<AccountSid>,
    /// The balance as an exact decimal string; null when the account carries no balance
    /// (child accounts do not). Changes may not be reflected immediately.
    #[serde(rename = "balance", with = "rust_decimal::serde::str_option")]
    #[schemars(with = "Option<String>")]
    amount: Option<Decimal>,
    /// The currency of the balance, e.g. `USD`.
    currency: Option<String>,
    /// The `Twilio-Request-Id` of the response it came in: quote it to Twilio support.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl Balance {
    /// The balance, exactly as Twilio states it; `None` when the account carries no balance.
    pub fn amount(&self) -> Option<Decimal> {
        self.amount
    }

    /// The currency code (e.g. `USD`) the amount is in.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// The account the balance belongs to.
    pub fn account_sid(&self) -> Option<&AccountSid> {
        self.account_sid.as_ref()
    }

    /// The `Twilio-Request-Id` header of the response it came in.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub(crate) fn set_request_id(&mut self, request_id: Option<String>) {
        self.request_id = request_id;
    }

    /// Every string in it that came from the server, for scrubbing.
    pub(crate) fn server_text(&mut self) -> impl Iterator<Item = &mut String> {
        self.currency.iter_mut().chain(self.request_id.iter_mut())
    }

    /// Parses an amount in the form Twilio writes it: an optional `-`, digits, and optionally
    /// `.` and digits. Anything else (`+5`, `.5`, `1e3`, `1_000`) is refused, and so is a
    /// number a [`Decimal`] cannot hold exactly: it is never rounded.
    ///
    /// ```
    /// use balance_api::Balance;
    ///
    /// assert_eq!(Balance::parse_amount("-0.05").unwrap().to_string(), "-0.05");
    /// assert!(Balance::parse_amount("1_000").is_err());
    /// assert!(Balance::parse_amount("0.05000000000000000000000000001").is_err());
    /// ```
    pub fn parse_amount(text: &str) -> Result<Decimal, InvalidAmount> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let plain = match unsigned.split_once('.') {
            Some((whole, fraction)) => digits(whole) && digits(fraction),
            None => digits(unsigned),
        };
        let invalid = |problem| InvalidAmount {
            raw: text.to_owned(),
            problem,
        };
        if !plain {
            return Err(invalid("not a decimal number"));
        }
        Decimal::from_str_exact(text).map_err(|_| invalid("out of the exact decimal range"))
    }

    /// The generated response, read through its field names (which upstream keeps stable),
    /// whatever Rust types progenitor picked for them. A response for another account than
    /// `requested` is refused: it must not pass as the requested account's balance.
    pub(crate) fn from_generated(
        body: fetch_balance::Response,
        requested: Option<&AccountSid>,
        request_id: Option<String>,
    ) -> Result<Self, Decode> {
        let account_sid = match (text("account_sid", &body.account_sid)?, requested) {
            (None, _) => None,
            (Some(got), Some(asked)) if got == asked.as_str() => Some(asked.clone()),
            (Some(got), Some(asked)) => {
                return Err(Decode::AccountMismatch {
                    requested: asked.clone(),
                    got,
                });
            }
            (Some(got), None) => {
                Some(got.parse().map_err(|e: crate::InvalidSid| Decode::Json {
                    reason: e.to_string(),
                    body: got,
                })?)
            }
        };
        let amount = text("balance", &body.balance)?;
        Ok(Self {
            account_sid,
            amount: amount
                .as_deref()
                .map(Self::parse_amount)
                .transpose()
                .map_err(Decode::Amount)?,
            currency: text("currency", &body.currency)?,
            request_id,
        })
    }
}

/// A generated field as text, whatever type progenitor gave it (a `String`, a newtype of one, an
/// `Option` of either, an enum of strings), read through its `Serialize` so that no generated
/// type name is leaned on. One field at a time: a string becomes a `Value::String` with the one
/// copy a `String` needs anyway, and nothing is read back by name.
fn text<T: Serialize>(name: &str, field: &T) -> Result<Option<String>, Decode> {
    match serde_json::to_value(field) {
        Ok(serde_json::Value::String(text)) => Ok(Some(text)),
        Ok(serde_json::Value::Null) => Ok(None),
        _ => Err(Decode::Json {
            reason: format!("`{name}` is not a string"),
            body: String::new(),
        }),
    }
}

/// The serialized form: the documented body, checked by the generated type, and the request id.
#[derive(Deserialize)]
struct Serialized {
    #[serde(flatten)]
    body: fetch_balance::Response,
    request_id: Option<String>,
}

impl<'de> Deserialize<'de> for Balance {
    /// Checks the body with the generated type, so the spec's rules (the SID pattern, string
    /// fields) apply exactly as they do to a fetched response.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Serialized { body, request_id } = Serialized::deserialize(deserializer)?;
        Self::from_generated(body, None, request_id).map_err(serde::de::Error::custom)
    }
}

/// An amount not in the plain decimal form Twilio writes (an optional `-`, digits, optionally
/// `.` and digits), or one a [`Decimal`] cannot hold exactly (28 significant digits).
///
/// ```
/// use balance_api::Balance;
///
/// let err = Balance::parse_amount("1e3").unwrap_err();
/// assert_eq!(err.to_string(), "\"1e3\" is not a decimal number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("\"{}\" is {problem}", Shown::escaped_short(raw))]
pub struct InvalidAmount {
    /// The text exactly as given (scrubbed when it came from a server).
    raw: String,
    /// What is wrong with it.
    problem: &'static str,
}

impl InvalidAmount {
    pub(crate) fn raw_mut(&mut self) -> &mut String {
        &mut self.raw
    }
}

/// `0.05 USD`; `0.05` without a currency; `no balance information` without an amount.
impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.amount, &self.currency) {
            (Some(amount), Some(currency)) => {
                write!(f, "{amount} {}", Shown::escaped_short(currency))
            }
            (Some(amount), None) => write!(f, "{amount}"),
            (None, _) => f.write_str("no balance information"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[derive(serde::Serialize)]
    struct Newtype(String);

    #[derive(serde::Serialize)]
    enum Currency {
        #[serde(rename = "USD")]
        Usd,
    }

    #[test]
    fn a_field_is_text_whatever_type_carries_it() {
        let some = |s: &str| Ok(Some(s.to_owned()));
        assert_eq!(text("f", &"x"), some("x"));
        assert_eq!(text("f", &Some(Newtype("AC1".into()))), some("AC1"));
        assert_eq!(text("f", &Currency::Usd), some("USD"));
        assert_eq!(text("f", &None::<String>), Ok(None));
        assert!(text("f", &vec!["a"]).is_err());
        let err = text("balance", &1.5).expect_err("a number");
        assert!(
            err.to_string().contains("`balance` is not a string"),
            "{err}"
        );
    }
}
