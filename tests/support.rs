//! Fixtures shared by the integration tests.

/// The account SID of the spec's documented example.
pub const EXAMPLE_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// The spec's documented 200 response body for [`EXAMPLE_SID`].
pub const EXAMPLE_BODY: &str =
    r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#;

/// The Balance path for `sid`, as Twilio documents it.
pub fn balance_path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{sid}/Balance.json")
}
