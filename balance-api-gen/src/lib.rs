//! The client and types progenitor generates from Twilio's documented Balance endpoint
//! (`balance.json`, the fragment cut from Twilio's OpenAPI description), at build time.
//! Nothing here is written by hand: to change what this crate holds, change the fragment (with
//! `cargo xtask regen` in the workspace) or a generator setting in `build.rs`.
//!
//! Beside the generated code sit what the build script reads from the same fragment and
//! progenitor leaves out: stable aliases for the operation's types ([`fetch_balance`]), the
//! documented server ([`SERVER_URL`]) and path ([`PATH`]), the `AccountSid` parameter's JSON
//! Schema ([`ACCOUNT_SID_SCHEMA`]); and one hand-written file, `hooks.rs`, the `ClientHooks` impl
//! that bounds response bodies (progenitor requires it next to the generated `Client`).
//!
//! The endpoint's documentation travels with it: [`FRAGMENT`] is the fragment itself, byte for
//! byte, [`PROVENANCE`] the record of where it was cut from, and [`ENDPOINT_MARKDOWN`] a
//! reference page the build makes from the fragment (summary, description, parameter rules,
//! response fields, the example), so a regenerated fragment changes it too.
//!
//! The build needs only the spec's contract: the `FetchBalance` operation, its `AccountSid`
//! parameter and its 200 response schema. Examples, descriptions and summaries are prose that
//! upstream adds, changes and drops, so nothing depends on them:
//!
//! - [`DOCUMENTED_EXAMPLE`] is the 200 response's documented example, `None` when there is none;
//! - [`DEMO_RESPONSE`] is a 200 body that is always there: that example, or else a body made
//!   from the response schema (each field's own `example`, else the shortest string its
//!   `pattern` matches, else `null` where nullable), so it decodes as
//!   [`fetch_balance::Response`] either way;
//! - [`DEMO_RESPONSE_SOURCE`] names which of the two it is, for a demo's note to its reader.
//!
//! Most users want the `balance-api` crate, which adds credentials, regions, errors and retries.
//!
//! ```
//! use balance_api_gen::fetch_balance;
//!
//! // The demo body decodes, and its account SID passes the spec's rule, example or not.
//! let body: fetch_balance::Response = serde_json::from_str(balance_api_gen::DEMO_RESPONSE)?;
//! let sid = serde_json::to_value(&body)?["account_sid"].as_str().map(str::to_owned);
//! assert!(sid.unwrap_or_default().parse::<fetch_balance::AccountSid>().is_ok());
//! assert!("AC123".parse::<fetch_balance::AccountSid>().is_err());
//! if let Some(example) = balance_api_gen::DOCUMENTED_EXAMPLE {
//!     assert_eq!(example, balance_api_gen::DEMO_RESPONSE);
//! }
//! # Ok::<(), serde_json::Error>(())
//! ```

// Generated code: documented as the spec documents it, bare URLs and all.
#![allow(missing_docs, clippy::unwrap_used, rustdoc::bare_urls)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));

/// The OpenAPI fragment this crate is generated from, byte for byte: the Balance endpoint cut
/// verbatim out of Twilio's `twilio_api_v2010.json` (`openapi/balance.json` in the workspace).
pub const FRAGMENT: &str = include_str!("../balance.json");

/// Where [`FRAGMENT`] came from, as JSON (`openapi/provenance.json` in the workspace): the
/// source URL, the sha256 of the full upstream document, and when it was taken.
pub const PROVENANCE: &str = include_str!("../provenance.json");

/// A Markdown reference page for the endpoint, made from [`FRAGMENT`] by the build script:
/// summary, description, server and authentication, each parameter with its rules, each response
/// field with its type, nullability, rules and description, and the documented example if there
/// is one, closing with [`PROVENANCE`]'s source. Prose the spec lacks is left out, never made up.
pub const ENDPOINT_MARKDOWN: &str = include_str!(concat!(env!("OUT_DIR"), "/endpoint.md"));

mod hooks;
pub use hooks::{RequestSettings, is_body_too_large, noting_header};
