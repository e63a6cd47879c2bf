//! The JSON both programs give for an account: its balance ([`BalanceJson`]: a `balance
//! --format json` line, an MCP tool's result) or why it has none ([`Failure`]).

use crate::fetch::{Outcome, Problem};
use balance_api::{AccountSid, Balance, Decimal};
use serde::Serialize;

/// What a child account's `balance: null` means, in every output of both programs.
pub const BILLED_TO_PARENT: &str =
    "no balance of its own: Twilio bills a subaccount's usage to its parent account";

/// What every demo figure is labelled with, in every output of both programs.
pub static DEMO_NOTE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let source = balance_api_gen::DEMO_RESPONSE_SOURCE;
    format!("DEMO DATA: {source}, not a real account")
});

/// One account's failure, as both programs report it (a JSON line, an MCP batch entry).
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Failure {
    /// Twilio's error code (see <https://www.twilio.com/docs/errors>), when Twilio sent one.
    #[schemars(schema_with = "twilio_code")]
    pub code: Option<u32>,
    /// The HTTP status, when a response arrived.
    #[schemars(schema_with = "http_status")]
    pub status: Option<u16>,
    /// What went wrong, in one line.
    pub message: String,
    /// Twilio's request id, for support.
    pub request_id: Option<String>,
}

impl Failure {
    /// The failure `problem` is, told as `message` (by default the problem's own line, its
    /// cause included).
    pub fn of(problem: &Problem, message: String) -> Self {
        let Problem::Fetch(e) = problem else {
            // The program's own report: no response to speak of.
            return Self {
                message,
                ..Self::default()
            };
        };
        Self {
            code: e.code(),
            status: e.status().map(|s| s.as_u16()),
            message,
            request_id: e.request_id().map(str::to_owned),
        }
    }
}

// schemars writes `"format": "uint32"` for unsigned integers, which is no JSON Schema format
// (validators such as the MCP Inspector's warn on every call); bounds say the same in the
// standard vocabulary.
fn twilio_code(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["integer", "null"], "minimum": 0, "maximum": u32::MAX })
}

// Three digits, as HTTP allows and a server may send (not only the 100–599 RFC 9110 defines):
// a result must never break its own schema.
fn http_status(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["integer", "null"], "minimum": 100, "maximum": 999 })
}

/// One account's balance, with what the reader needs to judge it. Fields are in alphabetical
/// order, as JSON Lines consumers have always seen them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BalanceJson {
    /// The account the balance belongs to.
    pub account_sid: AccountSid,
    /// The balance as an exact decimal string, e.g. "0.05"; null when Twilio gives none (a
    /// subaccount, billed to its parent).
    pub balance: Option<String>,
    /// Whether the balance is below `min`.
    pub below_min: bool,
    /// The currency of the balance, e.g. "USD".
    pub currency: Option<String>,
    /// Set on demo figures, which come from no real account.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    /// The minimum the balance is checked against, as an exact decimal string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// The account's name in the accounts file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Anything the reader must know about this figure (demo data; no balance of its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Twilio's request id for the response, for support.
    pub request_id: Option<String>,
}

impl BalanceJson {
    /// `balance` of `account`, judged against `min`; `demo` marks figures from the demo server.
    pub fn new(
        account: &AccountSid,
        name: Option<&str>,
        balance: &Balance,
        min: Option<Decimal>,
        demo: bool,
    ) -> Self {
        let notes: Vec<&str> = [
            demo.then_some(DEMO_NOTE.as_str()),
            balance.amount().is_none().then_some(BILLED_TO_PARENT),
        ]
        .into_iter()
        .flatten()
        .collect();
        Self {
            account_sid: account.clone(),
            balance: balance.amount().map(|d| d.to_string()),
            below_min: is_below(balance, min),
            currency: balance.currency().map(str::to_owned),
            demo,
            min: min.map(|m| m.to_string()),
            name: name.map(str::to_owned),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            request_id: balance.request_id().map(str::to_owned),
        }
    }
}

/// Whether `balance` is below `min`; a balance Twilio did not give (a subaccount's) never is.
pub fn is_below(balance: &Balance, min: Option<Decimal>) -> bool {
    matches!((balance.amount(), min), (Some(amount), Some(min)) if amount < min)
}

/// What an account's outcome comes to, judged against its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// At or above its minimum, or with no minimum.
    Ok,
    /// Below its minimum.
    BelowMin,
    /// A subaccount, billed to its parent.
    NoBalance,
    /// Not read: the fetch failed, or has not ended.
    Unreadable,
}

impl State {
    /// The state of `outcome` for an account whose minimum is `min`.
    pub fn of(outcome: &Outcome, min: Option<Decimal>) -> Self {
        match outcome {
            Err(_) => Self::Unreadable,
            Ok(b) if b.amount().is_none() => Self::NoBalance,
            Ok(b) if is_below(b, min) => Self::BelowMin,
            Ok(_) => Self::Ok,
        }
    }
}
