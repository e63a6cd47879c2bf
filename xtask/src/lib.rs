//! The maintainer tasks behind `cargo xtask`: pull the Balance endpoint out of Twilio's OpenAPI
//! document, write it to `openapi/` deterministically, and say what changed and what that means
//! for a release.
//!
//! The pieces are a library so the integration tests can drive them against temporary
//! directories and loopback servers; `main.rs` only parses the command line.

pub mod changes;
pub mod extract;
pub mod files;
pub mod regen;
pub mod report;
pub mod source;

/// The upstream document this project tracks (MIT-licensed `twilio/twilio-oai`).
pub const UPSTREAM_URL: &str =
    "https://raw.githubusercontent.com/twilio/twilio-oai/main/spec/json/twilio_api_v2010.json";

/// The one path item the fragment is built around.
pub const BALANCE_PATH: &str = "/2010-04-01/Accounts/{AccountSid}/Balance.json";
