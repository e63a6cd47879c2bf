//! The client and types progenitor generates from `openapi/balance.json`, Twilio's documented
//! Balance endpoint, at build time. Nothing here is written by hand: to change what this crate
//! holds, change the fragment (with `cargo xtask regen`) or a generator setting in `build.rs`.
//!
//! One hand-written piece sits beside the generated code: `hooks.rs`, the `ClientHooks` impl
//! that bounds response bodies (progenitor requires it next to the generated `Client`).
//!
//! Most users want the `balance-api` crate, which adds credentials, regions, errors and retries.
//!
//! ```
//! use balance_api_gen::types::ApiV2010AccountBalance;
//!
//! let body = r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#;
//! let balance: ApiV2010AccountBalance = serde_json::from_str(body)?;
//! assert_eq!(balance.balance.as_deref(), Some("0.05"));
//! # Ok::<(), serde_json::Error>(())
//! ```

// Generated code: documented as the spec documents it, bare URLs and all.
#![allow(missing_docs, clippy::unwrap_used, rustdoc::bare_urls)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));

mod hooks;
pub use hooks::{Limits, is_body_too_large};
