//! Configuration: region and edge hosts, the environment, and the plain-http guard.

use balance_api::{Client, ClientBuilder};
use balance_api_tests::*;

fn with_region_edge(region: Option<&str>, edge: Option<&str>) -> String {
    let mut b = Client::builder().credentials(token_credentials());
    if let Some(r) = region {
        b = b.region(r);
    }
    if let Some(e) = edge {
        b = b.edge(e);
    }
    b.build().expect("client").base_url().to_string()
}

#[test]
fn region_and_edge_build_the_documented_hosts() {
    assert_eq!(
        with_region_edge(Some("au1"), Some("sydney")),
        "https://api.sydney.au1.twilio.com/"
    );
    assert_eq!(
        with_region_edge(None, Some("dublin")),
        "https://api.dublin.us1.twilio.com/"
    );
    assert_eq!(
        with_region_edge(Some("ie1"), None),
        "https://api.ie1.twilio.com/"
    );
    assert_eq!(with_region_edge(None, None), "https://api.twilio.com/");
}

#[test]
fn plain_http_is_refused_for_non_loopback_hosts() {
    let build = |url: &str, allow: bool| {
        Client::builder()
            .credentials(token_credentials())
            .base_url(url)
            .allow_insecure_http(allow)
            .build()
    };
    let err = build("http://proxy.example.com:8080", false).expect_err("refused");
    assert!(
        err.to_string()
            .contains("refusing to send credentials over plain http to proxy.example.com"),
        "{err}"
    );
    assert!(build("http://10.1.2.3", false).is_err());
    assert!(build("ftp://127.0.0.1", false).is_err());
    assert!(build("not a url", false).is_err());
    for ok in [
        "http://127.0.0.1:9",
        "http://localhost:9",
        "http://[::1]:9",
        "https://proxy.example.com",
    ] {
        assert!(build(ok, false).is_ok(), "{ok}");
    }
    assert!(
        build("http://proxy.example.com:8080", true).is_ok(),
        "explicit opt-in"
    );
}

#[test]
fn a_builder_without_credentials_is_a_config_error() {
    let err = Client::builder().build().expect_err("no credentials");
    assert_eq!(
        err.to_string(),
        "no credentials: call .credentials(...) or use from_env()"
    );
}

#[test]
fn a_base_url_with_user_info_is_refused_and_never_echoed() {
    let with_password = "https://user:hunter2@proxy.example.com";
    let builder = Client::builder()
        .credentials(token_credentials())
        .base_url(with_password);
    assert!(!format!("{builder:?}").contains("hunter2"));
    let err = builder.build().expect_err("refused");
    assert!(
        err.to_string().contains("carries a user name or password"),
        "{err}"
    );
    assert!(!err.to_string().contains("hunter2"));
    let unparsable = Client::builder()
        .credentials(token_credentials())
        .base_url("https://u:hunter2@[bad");
    let err = unparsable.build().expect_err("not a URL");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn the_blocking_client_inside_a_runtime_errors_instead_of_panicking() {
    let server = httpmock::MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(EXAMPLE_BODY);
        })
        .await;
    let client = balance_api::Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
        .build_blocking()
        .expect("building is fine anywhere");
    let err = client.fetch_balance().expect_err("inside #[tokio::test]");
    assert_eq!(err.attempts(), 0, "nothing sent: {err:?}");
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("use balance_api::Client"), "{err}");
    let sid = EXAMPLE_SID.parse().expect("sid");
    assert!(client.fetch_balance_of(&sid).is_err());
    assert_eq!(any.calls_async().await, 0);
    drop(client); // must not panic in async context
}

#[test]
fn a_base_url_with_a_query_or_fragment_is_refused() {
    for url in [
        "http://127.0.0.1:9/ok?x=1",
        "http://127.0.0.1:9/ok?",
        "http://127.0.0.1:9/ok#frag",
    ] {
        let err = Client::builder()
            .credentials(token_credentials())
            .base_url(url)
            .build()
            .expect_err(url);
        assert!(err.to_string().contains("query or fragment"), "{err}");
    }
    let ok = Client::builder()
        .credentials(token_credentials())
        .base_url("http://127.0.0.1:9/prefix/")
        .build();
    assert!(ok.is_ok(), "a path prefix is fine");
    let bad_edge = Client::builder()
        .credentials(token_credentials())
        .base_url("http://127.0.0.1:9")
        .edge("a/b")
        .build()
        .expect_err("a bad edge is refused even where a base URL makes it moot");
    assert!(
        bad_edge.to_string().contains("edge must be a host label"),
        "{bad_edge}"
    );
}

/// An international host reaches the wire as punycode: whichever IDNA back end Cargo.lock picks
/// for url (it pins idna_adapter's unicode-rs one), it must not be the stub that refuses them.
#[test]
fn an_international_base_url_host_is_sent_as_punycode() {
    let client = Client::builder()
        .credentials(token_credentials())
        .base_url("https://bücher.example/")
        .build()
        .expect("an IDN host is a host");
    assert_eq!(client.base_url().as_str(), "https://xn--bcher-kva.example/");
}

/// The child half of the test below: run with `HTTP_PROXY` set, in a process of its own.
#[test]
#[ignore = "run by a_shared_transport_decides_whether_plain_http_meets_a_proxy, with HTTP_PROXY set"]
fn child_plain_http_over_a_shared_proxied_transport_is_refused() {
    if std::env::var_os("HTTP_PROXY").is_none() {
        return; // run alone: nothing to check
    }
    let proxied = Client::builder()
        .credentials(token_credentials())
        .build()
        .expect("a client that uses the system's proxies");
    // This builder says no proxy, but the transport it borrows goes through one.
    let err = Client::builder()
        .credentials(token_credentials())
        .base_url("http://127.0.0.1:9")
        .no_proxy()
        .transport_of(&proxied)
        .build()
        .expect_err("refused");
    assert!(
        err.to_string()
            .contains("through the proxy proxy.example.com"),
        "{err}"
    );
}

/// A shared transport decides whether plain http meets a proxy, not the borrowing builder's own
/// `no_proxy()`: credentials never go over plain http through a non-loopback proxy.
#[test]
fn a_shared_transport_decides_whether_plain_http_meets_a_proxy() {
    let mut child = child_test("child_plain_http_over_a_shared_proxied_transport_is_refused");
    child
        .env("HTTP_PROXY", "http://proxy.example.com:3128")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    passes(child);
}

/// This test binary, set to run only the ignored test `name` (the child half of a test that
/// needs a process environment of its own).
fn child_test(name: &str) -> std::process::Command {
    let mut child = std::process::Command::new(std::env::current_exe().expect("this test binary"));
    child.args(["--ignored", "--exact", name]);
    child
}

/// Runs a [`child_test`] and asserts that its one test passed.
fn passes(mut child: std::process::Command) {
    let out = child.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}"
    );
}

/// The child half of the test below: run with a `TWILIO_AUTH_TOKEN` that is not UTF-8.
#[test]
#[ignore = "run by a_variable_that_is_not_utf8_is_named_not_taken_as_unset, with the variables set"]
fn child_from_env_with_a_token_that_is_not_utf8() {
    if std::env::var_os("TWILIO_AUTH_TOKEN").is_none() {
        return; // run alone: nothing to check
    }
    let err = ClientBuilder::from_env().expect_err("refused");
    assert_eq!(err.to_string(), "TWILIO_AUTH_TOKEN: is not valid UTF-8");
}

/// A variable that is set but not UTF-8 is an error naming it, never "not set" (which would
/// send the reader looking for the wrong mistake), and its bytes are not shown.
#[cfg(unix)]
#[test]
fn a_variable_that_is_not_utf8_is_named_not_taken_as_unset() {
    use std::os::unix::ffi::OsStrExt;
    let mut child = child_test("child_from_env_with_a_token_that_is_not_utf8");
    for var in balance_api::ENV_VARS {
        child.env_remove(var);
    }
    child.env("TWILIO_ACCOUNT_SID", EXAMPLE_SID).env(
        "TWILIO_AUTH_TOKEN",
        std::ffi::OsStr::from_bytes(b"token\xff"),
    );
    passes(child);
}
