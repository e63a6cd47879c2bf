//! The client and types progenitor generates from Twilio's documented Balance endpoint
//! (`balance.json`, the fragment cut from Twilio's OpenAPI description), at build time.
//! Nothing here is written by hand: to change what this crate holds, change the fragment (with
//! `cargo xtask regen` in the workspace) or a generator setting in `build.rs`.
//!
//! Beside the generated code sit what the build script reads from the same fragment and
//! progenitor leaves out: stable aliases for the operation's types ([`fetch_balance`]), the
//! documented server ([`SERVER_URL`]), the `AccountSid` parameter's JSON Schema
//! ([`ACCOUNT_SID_SCHEMA`]) and the documented example ([`DOCUMENTED_EXAMPLE`]); and one
//! hand-written file, `hooks.rs`, the `ClientHooks` impl that bounds response bodies
//! (progenitor requires it next to the generated `Client`).
//!
//! Most users want the `balance-api` crate, which adds credentials, regions, errors and retries.
//!
//! ```
//! use balance_api_gen::fetch_balance;
//!
//! let body: fetch_balance::Response = serde_json::from_str(balance_api_gen::DOCUMENTED_EXAMPLE)?;
//! assert_eq!(serde_json::to_value(&body)?["balance"], "0.05");
//! assert!("AC123".parse::<fetch_balance::AccountSid>().is_err());
//! # Ok::<(), serde_json::Error>(())
//! ```

// Generated code: documented as the spec documents it, bare URLs and all.
#![allow(missing_docs, clippy::unwrap_used, rustdoc::bare_urls)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));

mod hooks;
pub use hooks::{Limits, is_body_too_large};
