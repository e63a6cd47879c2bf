//! Decoding real 200 responses: the documented example, nulls, exactness, and bad balances.

use balance_api::Decimal;
use balance_api_tests::*;
use httpmock::prelude::*;

async fn fetch_body(body: &str) -> Result<balance_api::Balance, balance_api::Error> {
    fetch_typed("application/json", body).await
}

/// A 200 with this `Content-Type` and body.
async fn fetch_typed(
    content_type: &str,
    body: &str,
) -> Result<balance_api::Balance, balance_api::Error> {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(balance_path(EXAMPLE_SID));
            then.status(200)
                .header("content-type", content_type)
                .body(body);
        })
        .await;
    builder_for(&server)
        .build()
        .expect("client")
        .fetch_balance()
        .await
}

#[tokio::test]
async fn the_documented_example() {
    let b = fetch_body(EXAMPLE_BODY).await.expect("decodes");
    assert_eq!(b.amount(), Some(Decimal::new(5, 2)));
    assert_eq!(b.currency(), Some("USD"));
    assert_eq!(b.account_sid().map(|s| s.as_str()), Some(EXAMPLE_SID));
}

#[tokio::test]
async fn all_null_fields_mean_no_balance_information_not_zero() {
    let b = fetch_body(r#"{"account_sid":null,"balance":null,"currency":null}"#)
        .await
        .expect("ok");
    assert_eq!(b.amount(), None);
    assert_eq!(b.currency(), None);
    assert_eq!(b.account_sid(), None);
    assert_eq!(b.to_string(), "no balance information");
    let absent = fetch_body("{}").await.expect("absent fields are nulls too");
    assert_eq!(absent.amount(), None);
}

#[tokio::test]
async fn negative_and_many_decimal_balances_round_trip_exactly() {
    for text in [
        "-12.34",
        "0.1",
        "-0.000000000000000000000000001",
        "79228162514264337593543950335",
        "1234567890.123456789012345678",
        "0",
        "5.000",
    ] {
        let body =
            format!(r#"{{"account_sid":"{EXAMPLE_SID}","balance":"{text}","currency":"USD"}}"#);
        let b = fetch_body(&body)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            b.amount().map(|d| d.to_string()).as_deref(),
            Some(text),
            "exact for {text}"
        );
    }
    // A negative zero is zero (Decimal has no sign on zero).
    let b = fetch_body(r#"{"balance":"-0.00","currency":"USD"}"#)
        .await
        .expect("decodes");
    assert!(b.amount().is_some_and(|d| d.is_zero()));
}

/// The decode error `body` gets, as it reads.
async fn decode_error(body: &str) -> String {
    match fetch_body(body).await {
        Err(e) if e.is_decode() => e.to_string(),
        other => panic!("{body}: expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_balance_not_in_plain_decimal_form_is_an_error_keeping_the_raw_value() {
    for text in [
        "abc", "1,000.00", "", "NaN", "1e3", " 5", "1_000", "+5", ".5", "5.", "-", "0x10", "5 ",
    ] {
        let body = format!(r#"{{"balance":"{text}","currency":"USD"}}"#);
        assert_eq!(
            decode_error(&body).await,
            format!("the balance \"{text}\" is not a decimal number")
        );
    }
}

#[tokio::test]
async fn a_decimal_beyond_the_exact_range_says_so() {
    for text in [
        "99999999999999999999999999999999",
        "79228162514264337593543950336",
        "0.00000000000000000000000000001",
    ] {
        let body = format!(r#"{{"balance":"{text}","currency":"USD"}}"#);
        assert_eq!(
            decode_error(&body).await,
            format!("the balance \"{text}\" is out of the exact decimal range")
        );
    }
}

#[tokio::test]
async fn another_accounts_balance_is_refused_naming_both() {
    let other = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let body = format!(r#"{{"account_sid":"{other}","balance":"1000000.00","currency":"USD"}}"#);
    assert_eq!(
        decode_error(&body).await,
        format!("asked for {EXAMPLE_SID} but the response is for \"{other}\"")
    );
}

#[tokio::test]
async fn an_unknown_extra_field_is_ignored() {
    let body = r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"1.5","currency":"GBP","unit":"x","uri":{"a":1}}"#;
    let b = fetch_body(body).await.expect("decodes");
    assert_eq!(b.to_string(), "1.5 GBP");
}

#[tokio::test]
async fn a_balance_as_a_json_number_or_a_bad_sid_is_a_json_decode_error() {
    for body in [
        r#"{"balance":0.05,"currency":"USD"}"#,
        r#"{"account_sid":"AC123","balance":"1","currency":"USD"}"#,
        r#"{"balance":"1""#,
        "[]",
    ] {
        let text = decode_error(body).await;
        assert!(
            text.starts_with("the response is not the documented balance: "),
            "{body}: {text}"
        );
        assert!(text.contains("body starts"), "{text}");
    }
}

/// A malformed 200 is what Twilio support asks about, by its request id: every kind of decode
/// error keeps it, scrubbed like any other server text.
#[tokio::test]
async fn a_malformed_200_keeps_its_request_id() {
    for (content_type, body) in [
        ("application/json", "{not json"),
        (
            "application/json",
            r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"1e3"}"#,
        ),
        ("text/html", EXAMPLE_BODY),
    ] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path(balance_path(EXAMPLE_SID));
                then.status(200)
                    .header("content-type", content_type)
                    .header("twilio-request-id", "RQ0123456789abcdef0123456789abcdef")
                    .body(body);
            })
            .await;
        let err = builder_for(&server)
            .build()
            .expect("client")
            .fetch_balance()
            .await
            .expect_err("not the documented balance");
        assert!(err.is_decode(), "{err:?}");
        assert_eq!(
            err.request_id(),
            Some("RQ0123456789abcdef0123456789abcdef"),
            "{body}: {err}"
        );
    }
}

/// A request id is kept only when it could be one (at most 256 bytes): a server's 1,000-byte
/// value would otherwise reach every output, on a balance and on an error alike.
#[tokio::test]
async fn an_overlong_request_id_is_not_kept() {
    let long = format!("RQ{}", "0".repeat(998));
    for status in [200, 404] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path(balance_path(EXAMPLE_SID));
                then.status(status)
                    .header("content-type", "application/json")
                    .header("twilio-request-id", &long)
                    .body(EXAMPLE_BODY);
            })
            .await;
        let result = builder_for(&server)
            .retry(balance_api::RetryPolicy::none())
            .build()
            .expect("client")
            .fetch_balance()
            .await;
        let kept = match &result {
            Ok(balance) => balance.request_id(),
            Err(err) => err.request_id(),
        };
        assert_eq!(kept, None, "{status}: {result:?}");
    }
}

/// The spec documents `application/json`; its parameters, its case and a structured `+json`
/// suffix label the same JSON, so none of them is refused.
#[tokio::test]
async fn json_content_types_with_parameters_case_or_a_json_suffix_decode() {
    for content_type in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.twilio+json",
    ] {
        let balance = fetch_typed(content_type, EXAMPLE_BODY).await;
        assert_eq!(
            balance.map(|b| b.to_string()).ok().as_deref(),
            Some("0.05 USD"),
            "{content_type}"
        );
    }
}
