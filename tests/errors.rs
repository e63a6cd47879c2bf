//! Error responses become typed, readable errors; an invalid SID never reaches the network.

use balance_api::{AccountSid, BuildError, Error, RetryPolicy};
use balance_api_tests::*;
use httpmock::prelude::*;

const SENT_REQUEST_ID: &str = "RQ11111111111111111111111111111111";

async fn fetch_with(status: u16, content_type: &str, body: &str) -> Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(balance_path(EXAMPLE_SID));
            then.status(status)
                .header("content-type", content_type)
                .header("twilio-request-id", SENT_REQUEST_ID)
                .body(body);
        })
        .await;
    // One attempt: these tests are about how a single response reads, not about retrying it.
    let client = builder_for(&server)
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    client.fetch_balance().await.expect_err("must fail")
}

#[tokio::test]
async fn twilio_404_becomes_a_typed_api_error() {
    let body = r#"{"code":20404,"message":"The requested resource /2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Balance.json was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#;
    let err = fetch_with(404, "application/json", body).await;
    assert_eq!(err.code(), Some(20404));
    assert!(
        err.message()
            .is_some_and(|m| m.starts_with("The requested resource"))
    );
    assert_eq!(
        err.more_info(),
        Some("https://www.twilio.com/docs/errors/20404")
    );
    assert_eq!(err.request_id(), Some(SENT_REQUEST_ID));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    let text = err.to_string();
    assert!(
        text.starts_with("Twilio error 20404 (HTTP 404 Not Found): The requested resource"),
        "{text}"
    );
    assert!(
        text.ends_with("; see https://www.twilio.com/docs/errors/20404"),
        "{text}"
    );
}

#[tokio::test]
async fn twilio_401_with_detail_keeps_the_detail() {
    let body = r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401,"detail":"Your AccountSid or AuthToken was incorrect."}"#;
    let err = fetch_with(401, "application/json", body).await;
    assert_eq!(err.code(), Some(20003));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(
        err.to_string()
            .contains("(Your AccountSid or AuthToken was incorrect.)")
    );
}

#[tokio::test]
async fn twilio_500_with_structured_details() {
    let body = r#"{"code":20500,"message":"Internal Server Error","more_info":"https://www.twilio.com/docs/errors/20500","status":500,"details":{"hint":"retry"}}"#;
    let err = fetch_with(500, "application/json", body).await;
    assert_eq!(err.code(), Some(20500));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(err.to_string().contains(r#"({"hint":"retry"})"#), "{err}");
}

#[tokio::test]
async fn an_html_502_is_an_http_error_with_a_bounded_snippet() {
    let page = format!(
        "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
        "x".repeat(5000)
    );
    let err = fetch_with(502, "text/html", &page).await;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(
        (err.code(), err.message()),
        (None, None),
        "not Twilio's error body"
    );
    let shown = err.to_string();
    assert!(shown.chars().count() < 260, "Display is bounded: {shown}");
    assert_eq!(err.request_id(), Some(SENT_REQUEST_ID));
    assert!(
        err.to_string()
            .starts_with("HTTP 502 Bad Gateway: \"<html>"),
        "{err}"
    );
}

#[tokio::test]
async fn an_empty_error_body_says_so() {
    let err = fetch_with(503, "text/plain", "").await;
    assert_eq!(
        err.to_string(),
        "HTTP 503 Service Unavailable with an empty body"
    );
}

#[tokio::test]
async fn an_invalid_sid_is_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(EXAMPLE_BODY);
        })
        .await;
    let _client = builder_for(&server).build().expect("client");
    let hex32 = "0123456789abcdef0123456789abcdef";
    for bad in [
        "AC123".to_owned(),
        format!("XX{hex32}"),
        "ACzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz".to_owned(),
    ] {
        let err = bad.parse::<AccountSid>().expect_err("invalid");
        assert!(err.to_string().starts_with("invalid Account SID"), "{err}");
    }
    assert_eq!(any.calls_async().await, 0, "no request reached the server");
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let client = balance_api::Client::builder()
        .credentials(token_credentials())
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = client.fetch_balance().await.expect_err("nothing listens");
    assert!(
        err.is_connect() && err.is_retryable() && !err.is_timeout(),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "could not connect",
        "no cause repeated, no URL"
    );
    // The chain goes on to the cause itself, for anyhow, eyre and tracing's error reports.
    let mut chain = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = next {
        chain.push(e);
        next = e.source();
    }
    let io = chain
        .iter()
        .find_map(|e| e.downcast_ref::<std::io::Error>());
    assert_eq!(
        io.map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionRefused),
        "{chain:?}"
    );
    // Each cause named once, the URL nowhere.
    let report = format!("{:#}", anyhow::Error::from(err));
    assert!(report.starts_with("could not connect: "), "{report}");
    assert_eq!(report.matches("Connection refused").count(), 1, "{report}");
    assert!(!report.contains(&port.to_string()), "{report}");
}

/// A connect timeout is a timeout and a connect error, as reqwest says; the retry deadline is
/// a timeout no new attempt can fix.
#[tokio::test]
async fn timeouts_say_what_timed_out() {
    // A non-routable address: the SYN goes unanswered.
    let client = balance_api::Client::builder()
        .credentials(token_credentials())
        .base_url("https://10.255.255.1")
        .no_proxy()
        .connect_timeout(std::time::Duration::from_millis(100))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = client.fetch_balance().await.expect_err("no answer");
    if err.is_timeout() {
        assert!(err.is_connect() && err.is_retryable(), "{err:?}");
    } else {
        // A machine with no route at all refuses at once instead.
        assert!(err.is_connect(), "{err:?}");
    }
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(503)
                .delay(std::time::Duration::from_millis(300));
        })
        .await;
    let err = builder_for(&server)
        .retry(RetryPolicy::default().deadline(Some(std::time::Duration::from_millis(100))))
        .build()
        .expect("client")
        .fetch_balance()
        .await
        .expect_err("the deadline");
    assert!(
        err.is_timeout() && !err.is_retryable() && !err.is_connect(),
        "{err:?}"
    );
    let report = format!("{:#}", anyhow::Error::from(err));
    assert_eq!(report, "timed out: the 100ms deadline passed");
}

#[test]
fn invalid_credentials_say_which_rule_failed() {
    use balance_api::Credentials;
    let sid = || "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().expect("sid");
    let odd_token = "the Auth Token contains whitespace, control or non-ASCII characters";
    for (made, rule) in [
        (
            Credentials::auth_token(sid(), ""),
            "the Auth Token is empty",
        ),
        (Credentials::auth_token(sid(), "\u{feff}abc"), odd_token),
        (Credentials::auth_token(sid(), "abc\u{200b}"), odd_token),
        (
            Credentials::api_key(sid(), "SK12", "s"),
            "the API Key SID is not SK followed by 32 hex digits",
        ),
        (
            Credentials::api_key(sid(), &format!("SK{}", "b".repeat(32)), "s e"),
            "the API Key secret contains whitespace, control or non-ASCII characters",
        ),
    ] {
        let err: BuildError = made.expect_err("refused");
        assert_eq!(err.to_string(), rule);
    }
}

#[tokio::test]
async fn a_stalled_server_is_a_timeout_error() {
    let server = balance_api_tests::stalled_server().await;
    let client = builder_for(&server)
        .timeout(std::time::Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let err = client.fetch_balance().await.expect_err("times out");
    assert!(err.is_timeout() && err.is_retryable() && !err.is_connect());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let report = format!("{:#}", anyhow::Error::from(err));
    // reqwest's own per-request timeout, and its own words for it.
    assert_eq!(
        report,
        "timed out: error sending request: operation timed out"
    );
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let elsewhere = MockServer::start_async().await;
    let stolen = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(EXAMPLE_BODY);
        })
        .await;
    let server = MockServer::start_async().await;
    let target = elsewhere.url(balance_path(EXAMPLE_SID));
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(302).header("location", target);
        })
        .await;
    let err = builder_for(&server)
        .build()
        .expect("client")
        .fetch_balance()
        .await
        .expect_err("302");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(err.to_string().contains("not followed"), "{err}");
    assert_eq!(
        stolen.calls_async().await,
        0,
        "the other host never saw the request"
    );
}

#[tokio::test]
async fn a_60_kb_message_is_kept_but_shown_bounded() {
    let message = "m".repeat(60_000);
    let body = serde_json::json!({"code": 20404, "message": message, "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}).to_string();
    let err = fetch_with(404, "application/json", &body).await;
    assert_eq!(
        err.message().map(str::len),
        Some(60_000),
        "the value is whole"
    );
    let shown = err.to_string();
    assert!(
        shown.len() < 1_300,
        "Display is bounded: {} bytes",
        shown.len()
    );
    assert!(shown.contains('…'), "the cut is marked");
}

/// The traits users expect, checked by the compiler.
#[test]
fn public_types_have_the_expected_traits() {
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    fn value<T: Clone + std::fmt::Debug + PartialEq + serde::Serialize + Send + Sync>() {}
    fn key<
        T: Clone + Eq + Ord + std::hash::Hash + std::fmt::Display + std::str::FromStr + AsRef<str>,
    >() {
    }
    error::<Error>();
    error::<BuildError>();
    error::<balance_api::InvalidSid>();
    value::<balance_api::Balance>();
    value::<AccountSid>();
    key::<AccountSid>();
    fn deserialize<T: serde::de::DeserializeOwned + schemars::JsonSchema>() {}
    deserialize::<AccountSid>();
    deserialize::<balance_api::Balance>();
}

/// A redirect with no `Location` is still a redirect, reported and not followed.
#[tokio::test]
async fn a_redirect_without_a_location_is_reported_as_one() {
    let err = fetch_with(302, "text/plain", "").await;
    assert_eq!(
        err.to_string(),
        "HTTP 302 Found: redirect to ? not followed"
    );
}
