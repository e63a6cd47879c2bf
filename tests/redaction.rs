//! Secrets never appear in Debug, Display, errors, or TRACE-level tracing output.

use balance_api::{Client, Credentials};
use balance_api_tests::*;
use httpmock::prelude::*;

fn assert_clean(text: &str, user: &str, secret: &str) {
    for form in leaked_forms(user, secret) {
        assert!(
            !text.contains(&form),
            "secret leaked as {form:?} in: {text}"
        );
    }
}

#[test]
fn debug_of_credentials_builder_and_client_shows_no_secret() {
    let token = token_credentials();
    let account = EXAMPLE_SID.parse().expect("sid");
    let key = Credentials::api_key(account, KEY_SID, KEY_SECRET).expect("creds");
    for creds in [&token, &key] {
        let builder = Client::builder().credentials(creds.clone());
        let client = builder.clone().build().expect("client");
        for text in [
            format!("{creds:?}"),
            format!("{builder:?}"),
            format!("{client:?}"),
            format!("{client:#?}"),
        ] {
            assert_clean(&text, EXAMPLE_SID, TOKEN);
            assert_clean(&text, KEY_SID, KEY_SECRET);
            assert!(text.contains("redacted"), "{text}");
        }
    }
}

/// A Twilio-shaped 401 whose message and details repeat every form of `user`'s `secret`, as a
/// hostile or debugging proxy might.
fn echoing_body(user: &str, secret: &str) -> String {
    let forms = leaked_forms(user, secret).join(" | ");
    serde_json::json!({
        "code": 20003,
        "message": format!("Authenticate: got {forms}"),
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
        "detail": format!("header was {}", basic(user, secret)),
    })
    .to_string()
}

#[tokio::test]
async fn errors_and_trace_output_carry_no_secret_even_when_the_server_echoes_it() {
    let captured = trace_log();

    let account = EXAMPLE_SID.parse().expect("sid");
    let key_creds = Credentials::api_key(account, KEY_SID, KEY_SECRET).expect("creds");
    for (creds, user, secret) in [
        (token_credentials(), EXAMPLE_SID, TOKEN),
        (key_creds, KEY_SID, KEY_SECRET),
    ] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path(balance_path(EXAMPLE_SID));
                then.status(401)
                    .header("twilio-request-id", "RQ22222222222222222222222222222222")
                    .body(echoing_body(user, secret));
            })
            .await;
        let client: Client = Client::builder()
            .credentials(creds)
            .base_url(server.base_url())
            .build()
            .expect("client");
        let err = client.fetch_balance().await.expect_err("401");
        for text in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
            assert_clean(&text, user, secret);
            assert!(
                text.contains("[redacted]"),
                "the echo was cut out, not dropped: {text}"
            );
        }
    }

    let sid = EXAMPLE_SID.parse().expect("sid");
    let err = Credentials::auth_token(sid, "bad token").expect_err("space in token");
    assert!(!format!("{err} {err:?}").contains("bad token"), "{err}");

    let log = captured.text();
    assert!(
        log.contains("balance_api.fetch"),
        "the span was recorded: {log}"
    );
    assert!(log.contains("status=401"), "{log}");
    assert!(
        log.contains("request_id=\"RQ22222222222222222222222222222222\""),
        "{log}"
    );
    assert!(log.contains("elapsed_ms="), "{log}");
    assert!(
        log.contains(EXAMPLE_SID),
        "the account SID is logged: {log}"
    );
    assert!(
        log.contains("hyper_util"),
        "transport events were captured too: {log}"
    );
    assert_clean(&log, EXAMPLE_SID, TOKEN);
    assert_clean(&log, KEY_SID, KEY_SECRET);
}

#[tokio::test]
async fn a_secret_straddling_the_snippet_cut_leaves_no_fragment() {
    let body = format!("{}{TOKEN}{}", "x".repeat(190), "y".repeat(100));
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500)
                .header("content-type", "text/plain")
                .body(body);
        })
        .await;
    let client = builder_for(&server)
        .retry(balance_api::RetryPolicy::none())
        .build()
        .expect("client");
    let err = client.fetch_balance().await.expect_err("500");
    let text = err.to_string();
    assert!(
        !text.contains(&TOKEN[..8]),
        "part of the token survived the cut: {text}"
    );
    assert!(text.contains("[redac"), "{text}");
}

#[tokio::test]
async fn a_secret_echoed_in_a_successful_response_is_scrubbed_everywhere() {
    let captured = trace_log();
    let sid = "ACecec0000000000000000000000000000";
    let creds =
        balance_api::Credentials::auth_token(sid.parse().expect("sid"), TOKEN).expect("creds");
    let header = basic(sid, TOKEN);
    let body =
        serde_json::json!({"account_sid": sid, "balance": "1.00", "currency": TOKEN}).to_string();
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("content-type", "application/json")
                .header("twilio-request-id", header.as_str())
                .body(body);
        })
        .await;
    let client = Client::builder()
        .credentials(creds)
        .base_url(server.base_url())
        .build()
        .expect("client");
    let balance = client.fetch_balance().await.expect("a 200");
    assert_eq!(balance.currency(), Some("[redacted]"));
    assert_eq!(balance.request_id(), Some("Basic [redacted]"));
    let json = serde_json::to_string(&balance).expect("json");
    let log: String = captured
        .text()
        .lines()
        .filter(|l| l.contains(sid))
        .collect();
    assert!(log.contains("request_id=\"Basic [redacted]\""), "{log}");
    for text in [balance.to_string(), format!("{balance:?}"), json, log] {
        assert_clean(&text, sid, TOKEN);
    }
}

#[tokio::test]
async fn a_short_secret_does_not_mangle_server_text() {
    let creds = balance_api::Credentials::auth_token(EXAMPLE_SID.parse().expect("sid"), "t")
        .expect("creds");
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(404).body(r#"{"code":20404,"message":"not found: t","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#);
        })
        .await;
    let err = Client::builder()
        .credentials(creds)
        .base_url(server.base_url())
        .build()
        .expect("client")
        .fetch_balance()
        .await
        .expect_err("404");
    assert_eq!(
        err.message(),
        Some("not found: [redacted]"),
        "only the lone `t` goes"
    );
    assert_eq!(
        err.more_info(),
        Some("https://www.twilio.com/docs/errors/20404")
    );
}
