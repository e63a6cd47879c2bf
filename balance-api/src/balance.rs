//! [`Balance`]: the documented response with its amount as an exact decimal.

use crate::AccountSid;
use crate::error::DecodeError;
use balance_api_gen::types::ApiV2010AccountBalance;
use rust_decimal::Decimal;
use std::fmt;

/// An account's balance. Every field is nullable in the spec, and Twilio documents that child
/// accounts carry no balance, so each accessor returns an `Option`: `None` means "Twilio sent no
/// value", never zero.
///
/// ```
/// use balance_api::Balance;
///
/// let body = r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"-12.3456789","currency":"USD"}"#;
/// let b = Balance::from_json(body.as_bytes())?;
/// assert_eq!(b.amount().map(|d| d.to_string()).as_deref(), Some("-12.3456789"));
/// assert_eq!(b.currency(), Some("USD"));
/// assert_eq!(b.to_string(), "-12.3456789 USD");
/// # Ok::<(), balance_api::DecodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Balance {
    account_sid: Option<AccountSid>,
    amount: Option<Decimal>,
    raw: ApiV2010AccountBalance,
}

impl Balance {
    /// Decodes a response body as the spec documents it.
    pub fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        let raw: ApiV2010AccountBalance =
            serde_json::from_slice(body).map_err(|e| DecodeError::Json {
                reason: e.to_string(),
                snippet: crate::error::snippet(body),
            })?;
        Self::try_from(raw)
    }

    /// The balance, exactly as Twilio states it; `None` when the account carries no balance.
    pub fn amount(&self) -> Option<Decimal> {
        self.amount
    }

    /// The currency code (e.g. `USD`) the amount is in.
    pub fn currency(&self) -> Option<&str> {
        self.raw.currency.as_deref()
    }

    /// The account the balance belongs to.
    pub fn account_sid(&self) -> Option<&AccountSid> {
        self.account_sid.as_ref()
    }

    /// The generated response type, as decoded from the wire.
    pub fn raw(&self) -> &ApiV2010AccountBalance {
        &self.raw
    }

    /// Gives up the checked form for the generated response type.
    pub fn into_raw(self) -> ApiV2010AccountBalance {
        self.raw
    }
}

impl TryFrom<ApiV2010AccountBalance> for Balance {
    type Error = DecodeError;

    fn try_from(raw: ApiV2010AccountBalance) -> Result<Self, Self::Error> {
        let amount = match raw.balance.as_deref() {
            None => None,
            // from_str_exact refuses what it would have to round: the amount is Twilio's, to the digit.
            Some(text) => {
                Some(
                    Decimal::from_str_exact(text).map_err(|_| DecodeError::Balance {
                        raw: text.to_owned(),
                    })?,
                )
            }
        };
        // The generated response type already enforced the pattern; this only changes its type.
        let account_sid = raw.account_sid.as_ref().and_then(|sid| sid.parse().ok());
        Ok(Self {
            account_sid,
            amount,
            raw,
        })
    }
}

/// `0.05 USD`; `0.05` without a currency; `no balance information` without an amount.
impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.amount, self.currency()) {
            (Some(amount), Some(currency)) => write!(f, "{amount} {currency}"),
            (Some(amount), None) => write!(f, "{amount}"),
            (None, _) => f.write_str("no balance information"),
        }
    }
}
