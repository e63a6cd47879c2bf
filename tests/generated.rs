//! The generated client, used directly: it compiles, sends the documented request, and its
//! constrained SID type enforces the spec's pattern.

use balance_api_gen::Client;
use balance_api_gen::fetch_balance::{
    AccountSid as FetchBalanceAccountSid, Response as ApiV2010AccountBalance,
};
use balance_api_tests::{EXAMPLE_BODY, EXAMPLE_SID, balance_path};
use httpmock::prelude::*;

#[tokio::test]
async fn fetch_balance_sends_the_documented_path_and_decodes_the_example() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(balance_path(EXAMPLE_SID))
                .header("accept", "application/json");
            then.status(200)
                .header("content-type", "application/json")
                .body(EXAMPLE_BODY);
        })
        .await;
    balance_api_tests::tls_provider();
    let client = Client::new(
        &server.base_url(),
        balance_api_gen::RequestSettings::default(),
    );
    let sid: FetchBalanceAccountSid = EXAMPLE_SID.parse().expect("valid SID");

    let response = client.fetch_balance(&sid).await.expect("fetch succeeds");

    mock.assert_async().await;
    assert_eq!(response.status(), 200);
    // Through the field names, which upstream keeps stable, not the Rust types progenitor picks.
    let body = serde_json::to_value(response.into_inner()).expect("serializes");
    assert_eq!(
        body,
        serde_json::from_str::<serde_json::Value>(EXAMPLE_BODY).expect("json")
    );
}

#[test]
fn the_generated_sid_type_enforces_the_spec_pattern() {
    let hex32 = "0123456789abcdefABCDEF0123456789";
    assert!(
        format!("AC{hex32}")
            .parse::<FetchBalanceAccountSid>()
            .is_ok()
    );
    for bad in [
        "AC123".to_owned(),
        format!("XX{hex32}"),
        "ACzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz".to_owned(),
        "zz".repeat(17),
        format!("AC{hex32}0"),
        String::new(),
    ] {
        assert!(
            bad.parse::<FetchBalanceAccountSid>().is_err(),
            "{bad:?} was accepted"
        );
    }
}

#[test]
fn a_response_with_a_malformed_account_sid_does_not_decode() {
    let body = r#"{"account_sid":"AC123","balance":"1","currency":"USD"}"#;
    assert!(serde_json::from_str::<ApiV2010AccountBalance>(body).is_err());
    let all_null = r#"{"account_sid":null,"balance":null,"currency":null}"#;
    let decoded: ApiV2010AccountBalance = serde_json::from_str(all_null).expect("nullable fields");
    assert_eq!(
        serde_json::to_value(decoded).expect("serializes"),
        serde_json::json!({})
    );
}

#[test]
fn generated_types_publish_a_json_schema_with_the_documented_fields() {
    // schemars derives from the Rust shape: the three nullable fields are there, but a newtype's
    // pattern is not (the derive sees a String); the spec in openapi/ stays the source for that.
    let schema = schemars::schema_for!(ApiV2010AccountBalance);
    let json = serde_json::to_value(&schema).expect("schema serializes");
    let props = json["properties"].as_object().expect("an object schema");
    let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["account_sid", "balance", "currency"], "{json}");
    assert_eq!(
        props["balance"]["type"],
        serde_json::json!(["string", "null"]),
        "{json}"
    );
}

#[test]
fn the_documented_constants_come_from_the_fragment() {
    let fragment: serde_json::Value =
        serde_json::from_str(include_str!("../openapi/balance.json")).expect("fragment");
    let op = &fragment["paths"][balance_api_gen::PATH]["get"];
    assert_eq!(op["operationId"], "FetchBalance");
    let schema: serde_json::Value =
        serde_json::from_str(balance_api_gen::ACCOUNT_SID_SCHEMA).expect("schema");
    assert_eq!(schema, op["parameters"][0]["schema"]);
    assert_eq!(schema["pattern"], "^AC[0-9a-fA-F]{32}$");
    // An example is prose: the constant mirrors whatever the fragment documents, if anything.
    let documented = &op["responses"]["200"]["content"]["application/json"]["examples"]["fetch"];
    let example: Option<serde_json::Value> = balance_api_gen::DOCUMENTED_EXAMPLE
        .map(|text| serde_json::from_str(text).expect("the example is JSON"));
    assert_eq!(example.as_ref(), documented.get("value"));
    if let Some(example) = balance_api_gen::DOCUMENTED_EXAMPLE {
        assert_eq!(balance_api_gen::DEMO_RESPONSE, example);
    }
    assert_eq!(balance_api_gen::SERVER_URL, fragment["servers"][0]["url"]);
}

/// The hooks apply `RequestSettings::timeout` to every request, as reqwest's own per-request
/// timeout: the one `balance_api::Client` sets for each attempt.
#[tokio::test]
async fn the_hooks_time_out_each_request() {
    balance_api_tests::tls_provider();
    let server = balance_api_tests::stalled_server().await;
    let settings = balance_api_gen::RequestSettings {
        timeout: Some(std::time::Duration::from_millis(200)),
        ..Default::default()
    };
    let client = balance_api_gen::Client::new_with_client(
        &server.base_url(),
        reqwest::Client::new(),
        settings,
    );
    let sid: FetchBalanceAccountSid = EXAMPLE_SID.parse().expect("valid SID");
    let started = std::time::Instant::now();
    let err = (client.fetch_balance(&sid).await).expect_err("times out");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{err}"
    );
    assert!(
        matches!(&err, balance_api_gen::Error::CommunicationError(e) if e.is_timeout()),
        "{err:?}"
    );
}
