//! The demo body is usable whatever the spec documents: it decodes as the generated response
//! type and its account SID passes the generated SID type, whether it is the documented example
//! or a body made from the response schema. The churn tests in `xtask` run this against a
//! fragment without an example.

use balance_api_gen::{DEMO_RESPONSE, DEMO_RESPONSE_SOURCE, DOCUMENTED_EXAMPLE, fetch_balance};

#[test]
fn the_demo_response_decodes_as_the_response_type() {
    let body: fetch_balance::Response = serde_json::from_str(DEMO_RESPONSE)
        .unwrap_or_else(|e| panic!("{DEMO_RESPONSE_SOURCE} does not decode: {e}\n{DEMO_RESPONSE}"));
    // Decoding kept every field the body carries: nothing was dropped on the way.
    let decoded = serde_json::to_value(&body).expect("serializes");
    let served: serde_json::Value = serde_json::from_str(DEMO_RESPONSE).expect("JSON");
    for (name, value) in served.as_object().expect("an object").iter() {
        assert_eq!(&decoded[name], value, "{name} in {DEMO_RESPONSE}");
    }
}

#[test]
fn the_demo_account_sid_passes_the_generated_sid_type() {
    let body: serde_json::Value = serde_json::from_str(DEMO_RESPONSE).expect("JSON");
    let sid = body["account_sid"]
        .as_str()
        .unwrap_or_else(|| panic!("no account_sid string in {DEMO_RESPONSE}"));
    let parsed: Result<fetch_balance::AccountSid, _> = sid.parse();
    assert!(
        parsed.is_ok(),
        "{sid:?} from {DEMO_RESPONSE_SOURCE}: {parsed:?}"
    );
}

#[test]
fn the_demo_response_is_the_documented_example_when_there_is_one() {
    match DOCUMENTED_EXAMPLE {
        Some(example) => {
            assert_eq!(DEMO_RESPONSE, example);
            assert!(DEMO_RESPONSE_SOURCE.contains("example documented"));
        }
        None => assert!(DEMO_RESPONSE_SOURCE.contains("response schema")),
    }
}
