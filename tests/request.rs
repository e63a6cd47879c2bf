//! The exact request on the wire, for both credential kinds, async and blocking.

use balance_api::{AccountSid, Client, Credentials};
use balance_api_tests::*;
use httpmock::prelude::*;

fn user_agent() -> String {
    format!(
        "balance-api/{} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[tokio::test]
async fn sends_the_documented_request_with_token_auth() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(balance_path(EXAMPLE_SID))
                .header("authorization", basic(EXAMPLE_SID, TOKEN))
                .header("user-agent", user_agent())
                .header("accept", "application/json");
            then.status(200)
                .header("content-type", "application/json")
                .body(EXAMPLE_BODY);
        })
        .await;
    let client = builder_for(&server).build().expect("client");

    let balance = client.fetch_balance().await.expect("balance");

    mock.assert_async().await;
    assert_eq!(balance.to_string(), "0.05 USD");
}

#[tokio::test]
async fn sends_api_key_auth_with_the_key_sid_as_user() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(balance_path(EXAMPLE_SID))
                .header("authorization", basic(KEY_SID, KEY_SECRET));
            then.status(200).body(EXAMPLE_BODY);
        })
        .await;
    let account = EXAMPLE_SID.parse().expect("sid");
    let creds = Credentials::api_key(account, KEY_SID, KEY_SECRET).expect("creds");
    let client = Client::builder()
        .credentials(creds)
        .base_url(server.base_url())
        .build()
        .expect("client");

    client.fetch_balance().await.expect("balance");
    mock.assert_async().await;
}

#[tokio::test]
async fn a_subaccount_fetch_uses_its_path_and_the_parents_credentials() {
    let sub_sid = "AC0123456789abcdef0123456789ABCDEF";
    let server = MockServer::start_async().await;
    let body = format!(r#"{{"account_sid":"{sub_sid}","balance":"12.5","currency":"EUR"}}"#);
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(balance_path(sub_sid))
                .header("authorization", basic(EXAMPLE_SID, TOKEN));
            then.status(200).body(body);
        })
        .await;
    let client = builder_for(&server).build().expect("client");
    let sub: AccountSid = sub_sid.parse().expect("sid");

    let balance = client.fetch_balance_of(&sub).await.expect("balance");

    mock.assert_async().await;
    assert_eq!(balance.account_sid(), Some(&sub));
    assert_eq!(balance.to_string(), "12.5 EUR");
}

#[tokio::test]
async fn the_user_agent_carries_the_app_suffix() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.header("user-agent", format!("{} billing/2.1", user_agent()));
            then.status(200).body(EXAMPLE_BODY);
        })
        .await;
    let client = builder_for(&server)
        .user_agent_suffix("billing/2.1")
        .build()
        .expect("client");
    client.fetch_balance().await.expect("balance");
    mock.assert_async().await;
}

#[tokio::test]
async fn the_balance_carries_the_request_id() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(balance_path(EXAMPLE_SID));
            then.status(200)
                .header("twilio-request-id", "RQ0123456789abcdef0123456789abcdef")
                .body(EXAMPLE_BODY);
        })
        .await;
    let client = builder_for(&server).build().expect("client");

    let balance = client.fetch_balance().await.expect("balance");

    assert_eq!(
        balance.request_id(),
        Some("RQ0123456789abcdef0123456789abcdef")
    );
    assert_eq!(balance.currency(), Some("USD"));
    let json = serde_json::to_value(&balance).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({"account_sid": EXAMPLE_SID, "balance": "0.05", "currency": "USD",
            "request_id": "RQ0123456789abcdef0123456789abcdef"})
    );
}

#[tokio::test]
async fn connections_are_reused_across_fetches() {
    let server = RawServer::start(|_request| ok_response(EXAMPLE_BODY)).await;
    let client = Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
        .build()
        .expect("client");
    for _ in 0..5 {
        client.fetch_balance().await.expect("balance");
    }
    assert_eq!(server.requests(), 5);
    assert_eq!(
        server.connections(),
        1,
        "keep-alive: one connection serves every fetch"
    );
}

#[test]
fn the_blocking_client_fetches_the_same_balance() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method(GET)
            .path(balance_path(EXAMPLE_SID))
            .header("authorization", basic(EXAMPLE_SID, TOKEN));
        then.status(200).body(EXAMPLE_BODY);
    });
    let client = balance_api::Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
        .build_blocking()
        .expect("client");

    let balance = client.fetch_balance().expect("balance");
    assert_eq!(balance.amount(), Some("0.05".parse().expect("decimal")));
    assert_eq!(balance.currency(), Some("USD"));

    let sid: AccountSid = EXAMPLE_SID.parse().expect("sid");
    let again = client.fetch_balance_of(&sid).expect("outside a runtime");
    assert_eq!(again, balance);
    assert_eq!(mock.calls(), 2);
}

/// Clients built with `transport_of` share one connection pool, yet each request carries its
/// own client's credentials.
#[tokio::test]
async fn clients_sharing_a_transport_send_their_own_credentials_over_one_connection() {
    let other_sid = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let other_body = EXAMPLE_BODY.replace(EXAMPLE_SID, other_sid);
    let server = RawServer::start(move |head| {
        let body = match sid_in(head) {
            Some(EXAMPLE_SID) => EXAMPLE_BODY.to_owned(),
            _ => other_body.clone(),
        };
        ok_response(&body)
    })
    .await;
    let first = balance_api::Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
        .build()
        .expect("client");
    let other =
        balance_api::Credentials::auth_token(other_sid.parse().expect("sid"), "other-token")
            .expect("credentials");
    let second = balance_api::Client::builder()
        .credentials(other)
        .base_url(server.base_url())
        .transport_of(&first)
        .build()
        .expect("client");
    for _ in 0..3 {
        first.fetch_balance().await.expect("first");
        second.fetch_balance().await.expect("second");
    }
    assert_eq!(server.requests(), 6);
    assert_eq!(
        server.connections(),
        1,
        "one pool, one kept-alive connection"
    );
    let auths: Vec<String> = server
        .arrivals()
        .iter()
        .map(|(_, head)| {
            let line = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"));
            line.unwrap_or_default().to_owned()
        })
        .collect();
    let expected_first = format!("authorization: {}", basic(EXAMPLE_SID, TOKEN));
    let expected_second = format!("authorization: {}", basic(other_sid, "other-token"));
    for (i, auth) in auths.iter().enumerate() {
        let expected = if i % 2 == 0 {
            &expected_first
        } else {
            &expected_second
        };
        assert!(auth.eq_ignore_ascii_case(expected), "request {i}: {auth}");
    }
}
