//! The fault matrix: every row is a real loopback server misbehaving in one way, and what the
//! client must do about it. Timings are short and explicit so the suite stays fast.

use balance_api::{Client, RetryPolicy};
use balance_api_tests::*;
use httpmock::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant, SystemTime};

const MS: Duration = Duration::from_millis(1);

fn client(base_url: &str, timeout: Duration, retry: RetryPolicy) -> Client {
    Client::builder()
        .credentials(token_credentials())
        .base_url(base_url)
        .timeout(timeout)
        .retry(retry)
        .build()
        .expect("client")
}

/// Quick retries for tests: small steps, many attempts, a generous deadline.
fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(20 * MS)
        .max_delay(200 * MS)
}

/// A handler that answers `first` for the first `n` requests and `then` afterwards.
fn sequence(
    n: usize,
    first: impl Fn() -> Reply + Send + Sync + 'static,
) -> impl Fn(&str) -> Reply + Send + Sync + 'static {
    let seen = AtomicUsize::new(0);
    move |head| {
        if seen.fetch_add(1, SeqCst) < n {
            first()
        } else {
            // The balance of the account asked for, as Twilio answers.
            let sid = sid_in(head).unwrap_or(EXAMPLE_SID);
            ok_response(&EXAMPLE_BODY.replace(EXAMPLE_SID, sid))
        }
    }
}

#[tokio::test]
async fn connection_refused_then_the_server_comes_up() {
    // Bound but not listening: connects are refused, and no other test can take the port.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    let late = tokio::spawn(async move {
        tokio::time::sleep(150 * MS).await;
        let listener = socket.listen(64).expect("listen");
        RawServer::from_listener(listener, |_| ok_response(EXAMPLE_BODY))
    });
    let c = client(
        &format!("http://{addr}"),
        Duration::from_secs(2),
        quick().base_delay(50 * MS).max_attempts(12),
    );
    let balance = c
        .fetch_balance()
        .await
        .expect("retried until the server was up");
    let server = late.await.expect("server task");
    assert_eq!(balance.to_string(), "0.05 USD");
    assert_eq!(
        server.requests(),
        1,
        "refused connects never reached a server"
    );
}

#[tokio::test]
async fn a_connection_dropped_mid_body_is_retried() {
    let server = RawServer::start(sequence(1, || Reply {
        bytes: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"account_sid\":".to_vec(),
        close: true,
        ..Reply::default()
    }))
    .await;
    let c = client(&server.base_url(), Duration::from_secs(2), quick());
    let balance = c.fetch_balance().await.expect("second attempt succeeds");
    assert_eq!(balance.to_string(), "0.05 USD");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_body_cut_mid_way_keeps_its_request_id() {
    // The head, request id included, arrived: support can still trace the broken response.
    let server = RawServer::start(|_| Reply {
        bytes: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntwilio-request-id: RQ0123456789abcdef0123456789abcdef\r\ncontent-length: 200\r\n\r\n{\"account_sid\":".to_vec(),
        close: true,
        ..Reply::default()
    })
    .await;
    let c = client(
        &server.base_url(),
        Duration::from_secs(2),
        RetryPolicy::none(),
    );
    let err = c
        .fetch_balance()
        .await
        .expect_err("the body never completes");
    assert!(
        !err.is_timeout() && !err.is_decode() && err.status().is_none(),
        "{err:?}"
    );
    assert_eq!(err.request_id(), Some("RQ0123456789abcdef0123456789abcdef"));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_within_the_bound() {
    let server = RawServer::start(|_| Reply {
        delay: Duration::from_secs(3600),
        ..Reply::default()
    })
    .await;
    let c = client(
        &server.base_url(),
        150 * MS,
        quick().deadline(Some(500 * MS)),
    );
    let started = Instant::now();
    let err = c.fetch_balance().await.expect_err("no answer");
    let took = started.elapsed();
    assert!(
        took < 900 * MS,
        "bounded by the 500 ms deadline, took {took:?}"
    );
    assert!(err.attempts() >= 2, "timeouts are retried: {err}");
    assert!(
        err.is_timeout(),
        "one shape for running out of time: {err:?}"
    );
}

#[tokio::test]
async fn a_body_trickling_slower_than_the_timeout_times_out() {
    // The head arrives at once; only the body trickles, one byte per 40 ms.
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        EXAMPLE_BODY.len()
    );
    let server = RawServer::start(move |_| Reply {
        bytes: format!("{head}{EXAMPLE_BODY}").into_bytes(),
        trickle: Some(40 * MS),
        trickle_from: head.len(),
        ..Reply::default()
    })
    .await;
    let c = client(&server.base_url(), 300 * MS, RetryPolicy::none());
    let started = Instant::now();
    let err = c.fetch_balance().await.expect_err("too slow");
    assert!(started.elapsed() < 800 * MS, "took {:?}", started.elapsed());
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn unbounded_timeouts_and_deadlines_do_not_overflow() {
    let server = RawServer::start(|_| ok_response(EXAMPLE_BODY)).await;
    let policy = RetryPolicy::default()
        .deadline(Some(Duration::MAX))
        .max_retry_after(Duration::MAX);
    let c = client(&server.base_url(), Duration::MAX, policy);
    c.fetch_balance().await.expect("no overflow panic");
}

#[tokio::test]
async fn two_503s_then_200_takes_three_attempts_each_a_tracing_event() {
    let log = trace_log();
    let sid = "AC503503503503503503503503503503ab";
    let server = RawServer::start(sequence(2, || response(503, &[], "{}"))).await;
    let c = client(&server.base_url(), Duration::from_secs(2), quick());
    c.fetch_balance_of(&sid.parse().expect("sid"))
        .await
        .expect("third attempt succeeds");
    assert_eq!(server.requests(), 3);
    let text = log.text();
    let ours: Vec<&str> = text.lines().filter(|l| l.contains(sid)).collect();
    let count = |what: &str| ours.iter().filter(|l| l.contains(what)).count();
    assert_eq!(count("attempt failed"), 2, "{text}");
    assert_eq!(count("attempt succeeded"), 1, "{text}");
}

#[tokio::test]
async fn a_503_forever_gives_up_after_max_attempts_naming_them() {
    let server = RawServer::start(|_| response(503, &[], r#"{"code":20503,"message":"Service Unavailable","more_info":"https://www.twilio.com/docs/errors/20503","status":503}"#)).await;
    let c = client(
        &server.base_url(),
        Duration::from_secs(2),
        quick().max_attempts(4),
    );
    let err = c.fetch_balance().await.expect_err("never succeeds");
    assert_eq!(err.attempts(), 4);
    assert_eq!(
        err.code(),
        Some(20503),
        "the last attempt's error itself: {err:?}"
    );
    assert_eq!(server.requests(), 4);
    let text = err.to_string();
    assert!(text.starts_with("Twilio error 20503"), "{text}");
    // What the retries did is read from the error, not appended to every message.
    assert!(!text.contains("attempt"), "{text}");
}

#[tokio::test]
async fn a_503_forever_gives_up_at_the_deadline() {
    let server = RawServer::start(|_| response(503, &[], "{}")).await;
    let policy = quick()
        .base_delay(100 * MS)
        .max_attempts(1000)
        .deadline(Some(400 * MS));
    let c = client(&server.base_url(), Duration::from_secs(2), policy);
    let started = Instant::now();
    let err = c.fetch_balance().await.expect_err("never succeeds");
    assert!(started.elapsed() < 700 * MS, "took {:?}", started.elapsed());
    assert!(err.attempts() > 1, "{err:?}");
    assert_eq!(err.attempts() as usize, server.requests());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err:?}");
}

#[tokio::test]
async fn a_429_with_retry_after_seconds_is_waited_out() {
    let server = RawServer::start(sequence(1, || response(429, &[("retry-after", "2")], r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#))).await;
    let c = client(&server.base_url(), Duration::from_secs(2), quick());
    let started = Instant::now();
    c.fetch_balance().await.expect("succeeds after the wait");
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 2);
    let gap = arrivals[1].0 - arrivals[0].0;
    assert!(gap >= Duration::from_secs(2), "waited {gap:?}");
    assert!(started.elapsed() < Duration::from_secs(4), "within the cap");
}

#[tokio::test]
async fn a_429_with_an_http_date_is_waited_out_until_then() {
    let until = SystemTime::now() + Duration::from_secs(2);
    let date = httpdate::fmt_http_date(until);
    // HTTP dates have whole seconds: the wait ends at the date as written.
    let target = httpdate::parse_http_date(&date).expect("round trip");
    let server = RawServer::start(sequence(1, move || {
        response(429, &[("retry-after", &date)], "{}")
    }))
    .await;
    let c = client(&server.base_url(), Duration::from_secs(2), quick());
    c.fetch_balance().await.expect("succeeds after the date");
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 2);
    let second_at = SystemTime::now() - arrivals[1].0.elapsed();
    assert!(
        second_at + 20 * MS >= target,
        "retried {:?} before the date",
        target.duration_since(second_at).unwrap_or_default()
    );
}

#[tokio::test]
async fn a_429_asking_beyond_the_cap_gives_up_at_once_and_says_so() {
    let server = RawServer::start(|_| response(429, &[("retry-after", "120")], "{}")).await;
    let c = client(
        &server.base_url(),
        Duration::from_secs(2),
        quick().max_retry_after(Duration::from_secs(5)),
    );
    let started = Instant::now();
    let err = c
        .fetch_balance()
        .await
        .expect_err("refuses to wait 2 minutes");
    assert!(started.elapsed() < 500 * MS);
    assert_eq!(err.attempts(), 1);
    assert!(
        err.to_string()
            .ends_with("(Twilio asked to wait 120s, over the 5s cap)"),
        "{err}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_401_or_404_is_not_retried() {
    for (status, code) in [(401, 20003), (404, 20404)] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.any_request();
                then.status(status).body(format!(r#"{{"code":{code},"message":"m","more_info":"https://www.twilio.com/docs/errors/{code}","status":{status}}}"#));
            })
            .await;
        let err = client(&server.base_url(), Duration::from_secs(2), quick())
            .fetch_balance()
            .await
            .expect_err("fails");
        assert_eq!(err.code(), Some(code), "{err:?}");
        assert_eq!(
            mock.calls_async().await,
            1,
            "exactly one attempt for {status}"
        );
    }
}

#[tokio::test]
async fn undecodable_200s_are_clear_decode_errors_without_retries() {
    const NOT_DOCUMENTED: &str = "the response is not the documented balance";
    let cases: [(&str, &str, &str); 4] = [
        ("application/json", r#"{"balance": "1", "#, NOT_DOCUMENTED),
        (
            "text/html",
            "<html><body>Hello</body></html>",
            NOT_DOCUMENTED,
        ),
        (
            "application/json",
            r#"{"balance":0.05,"currency":"USD"}"#,
            NOT_DOCUMENTED,
        ),
        (
            "text/plain",
            EXAMPLE_BODY,
            "the response's content type is \"text/plain\", not application/json",
        ),
    ];
    for (content_type, body, expected) in cases {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.any_request();
                then.status(200)
                    .header("content-type", content_type)
                    .body(body);
            })
            .await;
        let err = client(&server.base_url(), Duration::from_secs(2), quick())
            .fetch_balance()
            .await
            .expect_err("bad body");
        assert!(
            err.is_decode(),
            "{body}: expected a decode error, got {err:?}"
        );
        assert!(err.to_string().starts_with(expected), "{body}: {err}");
        assert_eq!(mock.calls_async().await, 1, "{body}: not retried");
    }
}

static ZEROS: [u8; 64 * 1024] = [b'0'; 64 * 1024];

#[tokio::test]
async fn a_10_mib_body_is_a_bounded_error() {
    // Announced by Content-Length, and streamed chunked (nothing announced): both stop at the cap.
    let announced = RawServer::start(|_| Reply {
        bytes: format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            10 << 20
        )
        .into_bytes(),
        repeat: Some((&ZEROS, 160)),
        ..Reply::default()
    })
    .await;
    assert_too_big(&announced).await;
    assert_eq!(announced.requests(), 1, "not retried");

    let chunk = b"10000\r\n"; // each chunk is 0x10000 = 64 KiB of zeros followed by CRLF
    let streamed = RawServer::start(move |_| {
        let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(&ZEROS);
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(&ZEROS);
        bytes.extend_from_slice(b"\r\n0\r\n\r\n");
        Reply { bytes, ..Reply::default() }
    })
    .await;
    assert_too_big(&streamed).await;
}

async fn assert_too_big(server: &RawServer) {
    let err = client(&server.base_url(), Duration::from_secs(5), quick())
        .fetch_balance()
        .await
        .expect_err("too big");
    assert!(err.is_decode(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the response body exceeds the 65536 byte cap"
    );
}

#[tokio::test]
async fn a_302_to_another_host_never_carries_authorization_there() {
    let other = MockServer::start_async().await;
    let with_auth = other
        .mock_async(|when, then| {
            when.header_exists("authorization");
            then.status(200).body(EXAMPLE_BODY);
        })
        .await;
    let any = other
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(EXAMPLE_BODY);
        })
        .await;
    let location = other.url(balance_path(EXAMPLE_SID));
    let server = RawServer::start(move |_| response(302, &[("location", &location)], "")).await;
    let err = client(&server.base_url(), Duration::from_secs(2), quick())
        .fetch_balance()
        .await
        .expect_err("not followed");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert_eq!(
        with_auth.calls_async().await,
        0,
        "the other host never saw Authorization"
    );
    assert_eq!(any.calls_async().await, 0, "nor the request at all");
    assert_eq!(server.requests(), 1, "a redirect is not a retryable status");
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed_even_within_the_origin_or_in_a_loop() {
    // A loop: every answer redirects back to the same path. One request, no retries.
    let server = RawServer::start(|head| {
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        response(302, &[("location", &path)], "")
    })
    .await;
    let err = client(&server.base_url(), Duration::from_secs(2), quick())
        .fetch_balance()
        .await
        .expect_err("not followed");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(err.to_string().contains("not followed"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1, "neither followed nor retried");
}

#[tokio::test]
async fn a_batch_of_200_with_404s_and_an_initial_429_burst() {
    const CONCURRENCY: usize = 8;
    // Only part of the first burst hears 429: the rest must still hold back, which is what
    // "the whole batch slows down" means (were all 8 refused, each would wait on its own).
    const BURST_429: usize = 3;
    let accounts: Vec<balance_api::AccountSid> = (0..200u32)
        .map(|i| format!("AC{i:032x}").parse().expect("sid"))
        .collect();
    let missing = |sid: &str| u32::from_str_radix(&sid[2..], 16).is_ok_and(|i| i % 20 == 7);
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let server = RawServer::start(move |head| {
        let sid = sid_in(head).unwrap_or_default().to_owned();
        let reply = if counter.fetch_add(1, SeqCst) < BURST_429 {
            response(429, &[("retry-after", "1")], r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#)
        } else if missing(&sid) {
            response(404, &[], r#"{"code":20404,"message":"not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#)
        } else {
            ok_response(&format!(r#"{{"account_sid":"{sid}","balance":"1.25","currency":"USD"}}"#))
        };
        Reply { delay: 5 * MS, ..reply }
    })
    .await;
    let c = client(&server.base_url(), Duration::from_secs(5), quick());

    let results = fetch_all(&c, accounts.clone(), CONCURRENCY).await;

    assert_eq!(results.len(), 200);
    let order: Vec<_> = results.iter().map(|(sid, _)| sid.clone()).collect();
    assert_eq!(
        order, accounts,
        "one result per account, in the order given"
    );
    let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
    let not_found = results
        .iter()
        // The same shape whether a 429 came first (an account in the burst met its 404 on
        // its second attempt) or not.
        .filter(|(sid, r)| {
            missing(sid.as_str()) && r.as_ref().is_err_and(|e| e.code() == Some(20404))
        })
        .count();
    assert_eq!((ok, not_found), (190, 10));
    assert!(
        server.max_in_flight() <= CONCURRENCY,
        "saw {} at once",
        server.max_in_flight()
    );

    // The 429s paused the whole batch: apart from requests already on their way when the first
    // 429 landed, nothing arrived within its one-second Retry-After.
    let arrivals = server.arrivals();
    let first_429 = arrivals[0].0;
    let during_pause = arrivals
        .iter()
        .filter(|(at, _)| *at > first_429 + 50 * MS && *at < first_429 + 950 * MS)
        .count();
    assert_eq!(
        during_pause, 0,
        "requests hammered the server during the pause"
    );
    assert_eq!(
        arrivals.len(),
        200 + BURST_429,
        "each 429 retried once, each 404 not at all"
    );
}

/// Replies that are not HTTP cannot turn into HTTP on a second try: one request each, and the
/// error names what was wrong rather than only the URL.
#[tokio::test]
async fn replies_that_are_not_http_are_not_retried_and_say_why() {
    let huge_header = format!(
        "HTTP/1.1 200 OK\r\nx-big: {}\r\n\r\n",
        "a".repeat(512 * 1024)
    );
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("oversized header", huge_header.into_bytes(), "too large"),
        (
            "garbage",
            b"hello, this is not HTTP\r\n\r\n".to_vec(),
            "invalid HTTP",
        ),
        ("HTTP/0.9", EXAMPLE_BODY.as_bytes().to_vec(), "invalid HTTP"),
    ];
    for (name, bytes, why) in cases {
        let server = RawServer::start(move |_| Reply {
            bytes: bytes.clone(),
            close: true,
            ..Reply::default()
        })
        .await;
        let err = client(&server.base_url(), Duration::from_secs(2), quick())
            .fetch_balance()
            .await
            .expect_err(name);
        assert!(
            !err.is_timeout() && !err.is_decode() && err.status().is_none(),
            "{name}: {err:?}"
        );
        assert!(!err.is_retryable(), "{name}");
        assert_eq!(server.requests(), 1, "{name}: not retried");
        let report = format!("{:#}", anyhow::Error::from(err));
        assert!(report.contains(why), "{name}: {report}");
    }
}

#[tokio::test]
async fn an_error_body_over_the_cap_says_so_rather_than_empty() {
    let server = RawServer::start(|_| Reply {
        bytes: format!(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n",
            10 << 20
        )
        .into_bytes(),
        repeat: Some((&ZEROS, 160)),
        ..Reply::default()
    })
    .await;
    let err = client(
        &server.base_url(),
        Duration::from_secs(5),
        RetryPolicy::none(),
    )
    .fetch_balance()
    .await
    .expect_err("500");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        err.to_string(),
        "HTTP 500 Internal Server Error (its body could not be read)"
    );
}

/// One account's 429 asking for an hour is that account's answer: the client will not wait it
/// out, so nor must the other accounts of the batch.
#[tokio::test]
async fn a_429_the_fetch_will_not_wait_out_does_not_pause_the_others() {
    let throttled: balance_api::AccountSid = format!("AC{:032x}", 999).parse().expect("sid");
    let server = RawServer::start(move |head| {
        let sid = sid_in(head).unwrap_or_default().to_owned();
        if sid == format!("AC{:032x}", 999) {
            response(429, &[("retry-after", "3600")], r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#)
        } else {
            ok_response(&format!(r#"{{"account_sid":"{sid}","balance":"1.25","currency":"USD"}}"#))
        }
    })
    .await;
    let c = client(
        &server.base_url(),
        Duration::from_secs(5),
        RetryPolicy::default(),
    );
    let mut accounts = vec![throttled.clone()];
    accounts.extend((0..15u32).map(|i| format!("AC{i:032x}").parse().expect("sid")));
    let started = Instant::now();
    let results = fetch_all(&c, accounts, 4).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "the batch took {took:?}");
    let err = results[0].1.as_ref().expect_err("throttled");
    assert_eq!(err.attempts(), 1, "{err}");
    assert!(err.to_string().contains("over the 30s cap"), "{err}");
    assert!(results[1..].iter().all(|(_, r)| r.is_ok()), "{results:?}");
    // And the next fetch of the same client goes straight out.
    let started = Instant::now();
    c.fetch_balance_of(&results[1].0)
        .await
        .expect("no pause left behind");
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// A fetch waiting out a 429 holds no in-flight slot: the throttled credentials' fetches fill
/// every slot first, and the other credentials' (sharing the transport and its limit) still
/// go at once.
#[tokio::test]
async fn a_fetch_waiting_out_a_429_holds_no_in_flight_slot() {
    let throttled_auth = basic(EXAMPLE_SID, TOKEN).to_ascii_lowercase();
    let server = RawServer::start(move |head| {
        let sid = sid_in(head).unwrap_or_default().to_owned();
        if head.to_ascii_lowercase().contains(&throttled_auth) {
            response(429, &[("retry-after", "3")], r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#)
        } else {
            ok_response(&format!(r#"{{"account_sid":"{sid}","balance":"1.25","currency":"USD"}}"#))
        }
    })
    .await;
    let throttled = Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
        .max_in_flight(8)
        .retry(quick().max_attempts(2))
        .build()
        .expect("client");
    let other_sid = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".parse().expect("sid");
    let others = Client::builder()
        .credentials(balance_api::Credentials::auth_token(other_sid, "other-token").expect("creds"))
        .base_url(server.base_url())
        .transport_of(&throttled)
        .build()
        .expect("client");
    let sid = |i: u32| -> balance_api::AccountSid { format!("AC{i:032x}").parse().expect("sid") };
    let waiting: Vec<_> = (0..8)
        .map(|i| {
            let client = throttled.clone();
            tokio::spawn(async move { client.fetch_balance_of(&sid(i)).await })
        })
        .collect();
    tokio::time::sleep(100 * MS).await; // every throttled fetch has heard its 429
    let started = Instant::now();
    let results = fetch_all(&others, (100..140).map(sid).collect(), 40).await;
    let took = started.elapsed();
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    assert!(took < Duration::from_secs(1), "the others took {took:?}");
    assert!(
        server.max_in_flight() <= 8,
        "saw {}",
        server.max_in_flight()
    );
    for task in waiting {
        let err = task.await.expect("task").expect_err("throttled");
        assert_eq!((err.code(), err.attempts()), (Some(20429), 2), "{err}");
    }
}
