//! A client for Twilio's account balance API,
//! `GET /2010-04-01/Accounts/{AccountSid}/Balance.json`.
//!
//! The request, the response type and the Account SID rule are generated from Twilio's OpenAPI
//! description (crate `balance-api-gen`); this crate adds what a spec cannot say: credentials,
//! regions and edges, timeouts, retries that honour `Retry-After`, errors with reqwest's
//! predicates and Twilio's fields, exact decimals, and keeping secrets and terminal escapes out
//! of what it shows. The generated client is an implementation detail, not part of this API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = balance_api::Client::from_env()?; // TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ...
//! let balance = client.fetch_balance().await?;
//! println!("{balance}"); // e.g. "0.05 USD"
//!
//! let sub: balance_api::AccountSid = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".parse()?;
//! let sub_balance = client.fetch_balance_of(&sub).await?; // parent's credentials
//! # let _ = sub_balance; Ok(()) }
//! ```
//!
//! Features: `rustls` (default) or `native-tls` for TLS; `blocking` for `blocking::Client`.
//! The `balance` and `balance-mcp` programs are the `balance-cli` crate.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod balance;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod config;
mod credentials;
mod error;
mod host;
mod redact;
mod response;
mod retry;
mod sid;
mod untrusted;

pub use balance::{Balance, InvalidAmount};
pub use client::{Client, REQUEST_ID_HEADER};
pub use config::{ClientBuilder, ENV_VARS};
pub use credentials::Credentials;
pub use error::{BuildError, Error};
pub use retry::RetryPolicy;
pub use sid::{AccountSid, InvalidSid};

/// The exact decimal type of [`Balance::amount`], re-exported so callers need not pin it.
#[doc(no_inline)]
pub use rust_decimal::Decimal;
