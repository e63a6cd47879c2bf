//! The installed `balance` command as a process, as a user, a cron job or a metrics collector
//! runs it, against loopback servers.

mod support;
use httpmock::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "cli-test-token-0123456789abcdef0";

/// A command in demo mode: no account, the documented example.
fn demo() -> Command {
    let mut cmd = balance();
    cmd.arg("--demo");
    cmd
}

/// A command with credentials, aimed at `server`.
fn against(server: &MockServer) -> Command {
    let mut cmd = balance();
    cmd.env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .args(["--base-url", &server.base_url()]);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("runs")
}

fn sid(i: usize) -> String {
    format!("AC{i:032x}")
}

fn body(sid: &str, amount: &str) -> String {
    format!(r#"{{"account_sid":"{sid}","balance":"{amount}","currency":"USD"}}"#)
}

const NOT_FOUND: &str = r#"{"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#;

/// `sids` answered with `amount`; `missing` answered with Twilio's 404.
async fn fleet(sids: &[String], amount: &str, missing: &[&str]) -> MockServer {
    let server = MockServer::start_async().await;
    for s in sids {
        let (status, reply) = if missing.contains(&s.as_str()) {
            (404, NOT_FOUND.to_owned())
        } else {
            (200, body(s, amount))
        };
        server
            .mock_async(|when, then| {
                when.path(format!("/2010-04-01/Accounts/{s}/Balance.json"));
                then.status(status)
                    .header("content-type", "application/json")
                    .body(reply);
            })
            .await;
    }
    server
}

#[test]
fn demo_prints_the_documented_balance_marked_as_demo() {
    let out = run(&mut demo());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("{SID}: 0.05 USD (DEMO DATA")),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}

#[test]
fn min_above_the_balance_exits_2_with_a_clear_line() {
    let out = run(demo().args(["--min", "1"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("below minimum: 0.05 USD < 1"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        run(demo().args(["--min", "0.05"])).status.code(),
        Some(0),
        "at it is fine"
    );
}

#[test]
fn min_is_exact_and_plain() {
    // One part in 10^29 above the balance: not representable exactly, so refused, not rounded.
    for bad in [
        "0.05000000000000000000000000001",
        "1_000",
        "+1",
        ".5",
        "1e3",
        "lots",
    ] {
        let out = run(demo().args(["--min", bad]));
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            text(&out.stderr).contains("--min"),
            "{bad}: {}",
            text(&out.stderr)
        );
    }
    let out = run(demo().args(["--min", "0.0500000000000000000000000001"]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "28 decimals is exact and above 0.05"
    );
}

#[test]
fn timeout_takes_seconds_or_units_and_refuses_zero() {
    // The last: about the largest duration there is, which must not overflow into a panic.
    for ok in ["5", "1.5", "500ms", "2m", "18446744073709549568"] {
        assert_eq!(
            run(demo().args(["--timeout", ok])).status.code(),
            Some(0),
            "{ok}"
        );
    }
    // These panicked in humantime ("overflow in Duration::new"), which also reads digits
    // across spaces as one number.
    let huge = [
        "18446744073709551615s 1000000000ns",
        "18446744073709551615s 999ms 999us 999ns",
        "18446 744073 709551 615s 999999999ns 1ns",
    ];
    for bad in ["0", "0s", "0ns", "-1", "soon"].into_iter().chain(huge) {
        let out = run(demo().arg(format!("--timeout={bad}")));
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(text(&out.stderr).contains("--timeout"), "{bad}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_invalid_account_exits_1_with_one_line_and_no_request() {
    let out = run(demo().args(["--account", "AC123"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert_eq!(
        err,
        "error: --account: invalid Account SID (5 characters): shorter than 34 characters\n"
    );
}

#[test]
fn bad_arguments_exit_1_and_help_documents_flags_and_exit_codes() {
    assert_eq!(run(balance().arg("--bogus")).status.code(), Some(1));
    assert_eq!(
        run(balance().args(["--concurrency", "0"])).status.code(),
        Some(1)
    );
    let help = run(balance().arg("--help"));
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    for flag in [
        "--config",
        "--demo",
        "--account",
        "--accounts-file",
        "--concurrency",
        "--json",
        "--format",
        "--min",
        "--output",
        "--region",
        "--edge",
        "--timeout",
        "--base-url",
        "prometheus",
    ] {
        assert!(help.contains(flag), "--help documents {flag}");
    }
    assert!(help.contains("1  any error"), "{help}");
    assert!(
        help.contains("2  no errors, but at least one balance is below its minimum"),
        "{help}"
    );
}

#[test]
fn partial_credentials_are_an_error_naming_the_missing_variable_never_demo_data() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("TWILIO_AUTH_TOKEN", TOKEN)],
            "TWILIO_ACCOUNT_SID: is not set",
        ),
        (
            &[
                ("TWILIO_API_KEY", "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
                ("TWILIO_API_SECRET", "s3cret-s3cret"),
            ],
            "TWILIO_ACCOUNT_SID: is not set",
        ),
        (
            &[("TWILIO_ACCOUNT_SID", ""), ("TWILIO_AUTH_TOKEN", TOKEN)],
            "TWILIO_ACCOUNT_SID: is set but empty",
        ),
        (
            &[("TWILIO_ACCOUNT_SID", SID)],
            "TWILIO_AUTH_TOKEN: is not set",
        ),
    ];
    for (vars, expected) in cases {
        let mut cmd = balance();
        cmd.args(["--json", "--min", "0.01"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{vars:?}");
        assert!(
            out.stdout.is_empty(),
            "no demo balance printed: {}",
            text(&out.stdout)
        );
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("error: {expected}")),
            "{vars:?}: {err}"
        );
        assert!(!err.contains("demo"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn several_accounts_one_404_keep_order_exit_1_and_valid_json_lines() {
    let sids: Vec<String> = (1..=5).map(sid).collect();
    let server = fleet(&sids, "12.50", &[&sids[2]]).await;
    let mut cmd = against(&server);
    cmd.arg("--json");
    for s in &sids {
        cmd.args(["--account", s]);
    }
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let order: Vec<&str> = lines
        .iter()
        .map(|v| v["account_sid"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(order, sids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(lines[0]["balance"], "12.50");
    assert_eq!(lines[0]["below_min"], false);
    assert_eq!(lines[2]["error"]["code"], 20404);
    assert_eq!(lines[2]["error"]["status"], 404);
    assert!(
        lines[2]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not found"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_of_60_sids_with_comments_and_below_min_exits_2() {
    let sids: Vec<String> = (100..160).map(sid).collect();
    let server = fleet(&sids, "3.00", &[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("subaccounts.txt");
    let mut listing = String::from("# customers\n\n");
    for (i, s) in sids.iter().enumerate() {
        listing.push_str(&format!("{s}   # customer {i}\n"));
        if i % 10 == 0 {
            listing.push_str("   \n# a comment line\n");
        }
    }
    std::fs::write(&file, listing).expect("write");
    let mut cmd = against(&server);
    cmd.args([
        "--accounts-file",
        &file.to_string_lossy(),
        "--min",
        "5",
        "--concurrency",
        "4",
    ]);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("join");
    assert_eq!(
        out.status.code(),
        Some(2),
        "all fetched, all below: {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    let expected: Vec<String> = sids.iter().map(|s| format!("{s}: 3.00 USD")).collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
    assert_eq!(
        text(&out.stderr)
            .lines()
            .filter(|l| l.contains("below minimum"))
            .count(),
        60
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_line_in_the_file_is_named_and_nothing_is_requested() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(body(SID, "1"));
        })
        .await;
    let mut cmd = against(&server);
    cmd.args(["--accounts-file", "-"]).stdin(Stdio::piped());
    let listing = format!("{}\n# fine\n{}\nAC123\n", sid(1), sid(2));
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(listing.as_bytes())
            .expect("write");
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: -:4: invalid Account SID (5 characters): shorter than 34 characters\n"
    );
    assert_eq!(
        any.calls_async().await,
        0,
        "no request before every SID is checked"
    );
}

/// Every sample line of a Prometheus text exposition: (name, labels, value).
fn samples(exposition: &str) -> Vec<(String, String, f64)> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("name value");
            let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
            let value = value.parse().expect("a float value");
            (
                name.to_owned(),
                labels.trim_end_matches('}').to_owned(),
                value,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_output_is_valid_and_says_what_failed() {
    let sids: Vec<String> = (1..=3).map(sid).collect();
    let server = fleet(&sids, "7.25", &[&sids[1]]).await;
    let dir = tempfile::tempdir().expect("dir");
    let prom = dir.path().join("twilio.prom");
    let mut cmd = against(&server);
    cmd.args([
        "--format",
        "prometheus",
        "--min",
        "10",
        "--output",
        &prom.to_string_lossy(),
    ]);
    for s in &sids {
        cmd.args(["--account", s]);
    }
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(1), "one account failed");
    assert!(out.stdout.is_empty(), "the output went to the file");
    let exposition = std::fs::read_to_string(&prom).expect("written");
    let found = samples(&exposition);
    let value = |name: &str, labels: &str| {
        found
            .iter()
            .find(|(n, l, _)| n == name && l == labels)
            .map(|(_, _, v)| *v)
    };
    let label = |s: &str| format!("account_sid=\"{s}\"");
    assert_eq!(
        value(
            "twilio_balance",
            &format!("{},currency=\"USD\"", label(&sids[0]))
        ),
        Some(7.25)
    );
    assert_eq!(value("twilio_balance_up", &label(&sids[0])), Some(1.0));
    assert_eq!(value("twilio_balance_up", &label(&sids[1])), Some(0.0));
    assert_eq!(
        value("twilio_balance_below_minimum", &label(&sids[2])),
        Some(1.0)
    );
    assert_eq!(
        value("twilio_balance_minimum", &label(&sids[0])),
        Some(10.0)
    );
    assert!(
        found
            .iter()
            .all(|(n, _, _)| exposition.contains(&format!("# TYPE {n} gauge")))
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left beside it");
    promtool_accepts(&exposition);
}

#[tokio::test(flavor = "multi_thread")]
async fn output_is_atomic_and_leaves_nothing_behind_on_error() {
    let server = fleet(&[SID.to_owned()], "0.05", &[]).await;
    let balance = || against(&server);
    let run = |cmd: &mut Command| tokio::task::block_in_place(|| run(cmd));
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("out.txt");
    std::fs::write(&target, "previous\n").expect("seed");
    // A directory where the file should be: the rename fails after the temporary file exists.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir(&blocked).expect("dir");
    std::fs::write(blocked.join("keep"), "x").expect("file");
    let out = run(balance().args(["--output", &blocked.to_string_lossy()]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--output"),
        "{}",
        text(&out.stderr)
    );
    let ok = run(balance().args(["--output", &target.to_string_lossy()]));
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&target).expect("read"),
        format!("{SID}: 0.05 USD\n")
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "only out.txt and blocked/: {names:?}");
    // A missing directory: nothing is created at all.
    let out = run(balance().args([
        "--output",
        &dir.path().join("no/such/dir/x").to_string_lossy(),
    ]));
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_5_bounds_the_run() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(body(SID, "1"))
                .delay(Duration::from_secs(30));
        })
        .await;
    let mut cmd = against(&server);
    cmd.args(["--timeout", "1"]);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        text(&out.stdout).contains("timed out"),
        "{}",
        text(&out.stdout)
    );
    let quick = fleet(&[SID.to_owned()], "1", &[]).await;
    let mut cmd = against(&quick);
    cmd.args(["--timeout", "5"]);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn settings_that_would_misroute_credentials_are_refused_before_any_request() {
    let with_credentials = || {
        let mut cmd = balance();
        cmd.env("TWILIO_ACCOUNT_SID", SID)
            .env("TWILIO_AUTH_TOKEN", TOKEN);
        cmd
    };
    for (url, why) in [
        (
            "http://proxy.example.com",
            "refusing to send credentials over plain http",
        ),
        ("http://127.0.0.1:9/ok?x=1", "query or fragment"),
        ("http://127.0.0.1:9/ok#frag", "query or fragment"),
    ] {
        let out = run(with_credentials().args(["--base-url", url]));
        assert_eq!(out.status.code(), Some(1), "{url}");
        let err = text(&out.stderr);
        assert!(err.contains(why), "{url}: {err}");
        assert!(!err.contains(TOKEN));
    }
    // A plain-http loopback base URL behind a remote proxy would put the token on the wire.
    let out = run(with_credentials()
        .env("HTTP_PROXY", "http://proxy.example.com:3128")
        .args(["--base-url", "http://127.0.0.1:9"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("through the proxy proxy.example.com"),
        "{}",
        text(&out.stderr)
    );
}

/// A one-shot loopback "proxy": answers the first request with the documented balance and
/// hands back the request head it saw.
fn one_shot_proxy() -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
        let reply = body(SID, "0.05");
        let mut stream = reader.into_inner();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
            reply.len()
        );
        let _ = stream.read(&mut [0; 1]);
        head
    });
    (url, handle)
}

#[test]
fn http_proxy_from_the_environment_is_honoured_when_it_is_loopback() {
    let (proxy, seen) = one_shot_proxy();
    let out = run(balance()
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("HTTP_PROXY", &proxy)
        // 127.0.0.2 is loopback but nothing listens there: only the proxy can answer.
        .args(["--base-url", "http://127.0.0.2:9"]));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{SID}: 0.05 USD\n"));
    let head = seen.join().expect("proxy");
    assert!(
        head.starts_with(&format!(
            "GET http://127.0.0.2:9/2010-04-01/Accounts/{SID}/Balance.json HTTP/1.1"
        )),
        "{head}"
    );
}

/// Control bytes the server sends never reach the terminal raw, and neither does the secret it
/// echoes, on success or error, in text or JSON.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_server_text_is_escaped_and_scrubbed_on_every_path() {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    let forged = format!(
        "USD\r\u{1b}[2K{SID}: 1000000.00 USD\u{1b}]0;pwned\u{7}\u{7f}\u{9b}1A\u{202e}{TOKEN}"
    );
    let other = sid(9);
    let server = MockServer::start_async().await;
    let ok_body =
        serde_json::json!({"account_sid": SID, "balance": "0.05", "currency": forged}).to_string();
    server
        .mock_async(|when, then| {
            when.path(format!("/2010-04-01/Accounts/{SID}/Balance.json"));
            then.status(200)
                .header("content-type", "application/json")
                .header("twilio-request-id", format!("Basic {auth}"))
                .body(ok_body);
        })
        .await;
    let err_body = serde_json::json!({"code": 20404, "message": format!("gone\r\u{1b}[1A{other}: 99 USD {TOKEN}"), "more_info": "https://x\u{1b}[0m", "status": 404}).to_string();
    server
        .mock_async(|when, then| {
            when.path(format!("/2010-04-01/Accounts/{other}/Balance.json"));
            then.status(404)
                .header("content-type", "application/json")
                .body(err_body);
        })
        .await;
    for format in ["text", "json"] {
        let mut cmd = against(&server);
        cmd.args(["--format", format, "--account", SID, "--account", &other]);
        let out = tokio::task::spawn_blocking(move || run(&mut cmd))
            .await
            .expect("join");
        assert_eq!(out.status.code(), Some(1));
        let stdout = text(&out.stdout);
        for (i, c) in stdout.chars().enumerate() {
            assert!(
                c == '\n' || !(c.is_control() || ('\u{2028}'..='\u{202e}').contains(&c)),
                "{format}: raw {c:?} at {i}: {stdout:?}"
            );
        }
        assert_eq!(stdout.lines().count(), 2, "no forged lines: {stdout}");
        for secret in [TOKEN, &auth] {
            assert!(
                !stdout.contains(secret) && !text(&out.stderr).contains(secret),
                "{format} leaked: {stdout}"
            );
        }
        assert!(stdout.contains("[redacted]"), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_letter_token_does_not_mangle_the_message() {
    let server = fleet(&[SID.to_owned()], "1", &[SID]).await;
    let mut cmd = against(&server);
    cmd.env("TWILIO_AUTH_TOKEN", "t");
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains(
            "The requested resource was not found; see https://www.twilio.com/docs/errors/20404"
        ),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn installs_nothing_into_the_output_directory_when_the_run_fails_early() {
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("x.prom");
    let out = run(demo().args(["--account", "AC123", "--output", &target.to_string_lossy()]));
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_dir(dir.path()).expect("dir").next().is_none());
    assert!(!Path::new(&target).exists());
}

#[test]
fn a_proxy_refusing_the_tunnel_is_named_as_the_cause() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let proxy = format!("http://{}", listener.local_addr().expect("addr"));
    let refuser = std::thread::spawn(move || {
        // Every CONNECT the client makes (one per attempt) is refused.
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { break };
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head);
            let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let out = run(balance()
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("HTTPS_PROXY", &proxy)
        .args(["--base-url", "https://127.0.0.1:9", "--timeout", "3"]));
    drop(refuser);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("tunnel") || stdout.contains("proxy"),
        "{stdout}"
    );
    assert!(!stdout.contains("error sending request"), "{stdout}");
}

#[test]
fn an_accounts_file_with_no_account_is_an_error_not_the_parent_account() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("empty.txt");
    std::fs::write(&file, "# nothing generated today\n\n").expect("write");
    let out = run(demo().args(["--accounts-file", &file.to_string_lossy()]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("lists no account"),
        "{}",
        text(&out.stderr)
    );
}

/// A JSON Lines error names its cause as the text output does, not only the layer that failed.
#[test]
fn a_json_error_line_names_the_cause() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = run(balance()
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .args([
            "--json",
            "--base-url",
            &format!("http://127.0.0.1:{port}"),
            "--timeout",
            "2",
        ]));
    assert_eq!(out.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let message = line["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("could not connect: ") && message.contains("Connection refused"),
        "{message}"
    );
}
