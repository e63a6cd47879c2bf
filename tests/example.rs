//! The `balance` example run as a process, as a user or a cron job would run it.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The example binary `cargo test --workspace` builds beside this test's own binary.
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/example-HASH -> target/<profile>/examples/balance
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target layout");
    let path = profile_dir
        .join("examples")
        .join(format!("balance{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo test --workspace` (it builds examples) or \
         `cargo build -p balance-api --example balance` first",
        path.display()
    );
    path
}

/// Runs the example with no Twilio settings, so it uses its demo server.
fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(example());
    for var in balance_api::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.args(args).output().expect("the example runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn without_credentials_it_uses_the_demo_server_and_prints_the_documented_balance() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 0.05 USD\n"
    );
    let note = text(&out.stderr);
    assert_eq!(
        note.lines().count(),
        1,
        "one line says why the demo runs: {note}"
    );
    assert!(
        note.contains("No Twilio credentials") && note.contains("demo server"),
        "{note}"
    );
}

#[test]
fn min_above_the_balance_exits_2_with_a_clear_line() {
    let out = run(&["--min", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("below minimum: 0.05 USD < 1"),
        "{}",
        text(&out.stderr)
    );
    let at = run(&["--min", "0.05"]);
    assert_eq!(at.status.code(), Some(0), "at the minimum is fine");
}

#[test]
fn json_output_parses_and_keeps_the_amount_exact() {
    let out = run(&["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["account_sid"], "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(v["balance"], "0.05");
    assert_eq!(v["currency"], "USD");
    assert_eq!(v["below_min"], false);
}

#[test]
fn an_invalid_account_exits_1_with_one_line_and_no_request() {
    let out = run(&["--account", "AC123"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert_eq!(
        err,
        "error: invalid Account SID (5 characters): shorter than 34 characters\n"
    );
    // The demo server announces itself when started; it never was, so nothing was requested.
    assert!(!err.contains("demo server"));
}

#[test]
fn an_unknown_account_is_a_twilio_404_line() {
    let out = run(&["--account", "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: Twilio error 20404 (HTTP 404 Not Found)"),
        "{err}"
    );
    assert!(
        last.ends_with("see https://www.twilio.com/docs/errors/20404"),
        "{err}"
    );
}

#[test]
fn bad_arguments_exit_1_and_help_documents_exit_codes() {
    assert_eq!(run(&["--bogus"]).status.code(), Some(1));
    assert_eq!(run(&["--min", "lots"]).status.code(), Some(1));
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    for flag in [
        "--account",
        "--json",
        "--min",
        "--region",
        "--edge",
        "--timeout",
        "--base-url",
    ] {
        assert!(help.contains(flag), "--help documents {flag}");
    }
    assert!(help.contains("2  the balance is below --min"), "{help}");
}

#[test]
fn a_plain_http_remote_base_url_is_refused_before_any_request() {
    let mut cmd = Command::new(example());
    cmd.env("TWILIO_ACCOUNT_SID", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("TWILIO_AUTH_TOKEN", "t0ken-never-printed")
        .args(["--base-url", "http://proxy.example.com"]);
    let out = cmd.output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("refusing to send credentials over plain http"),
        "{err}"
    );
    assert!(!err.contains("t0ken-never-printed"));
}

/// `HTTP_PROXY` is honoured: the example, given credentials and a base URL, sends its request
/// through a loopback proxy (which sees the absolute-form request line a proxy gets).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_from_the_environment_is_honoured() {
    let proxy = balance_api_tests::RawServer::start(|_| {
        balance_api_tests::ok_response(balance_api_tests::EXAMPLE_BODY)
    })
    .await;
    let mut cmd = Command::new(example());
    for var in balance_api::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("TWILIO_ACCOUNT_SID", balance_api_tests::EXAMPLE_SID)
        .env("TWILIO_AUTH_TOKEN", "proxy-test-token")
        .env("HTTP_PROXY", proxy.base_url())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        // 127.0.0.2 is loopback (plain http allowed) but nothing listens there: only the proxy
        // can answer.
        .args(["--base-url", "http://127.0.0.2:9"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 0.05 USD\n"
    );
    let seen = proxy.arrivals();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].1.starts_with("GET http://127.0.0.2:9/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Balance.json HTTP/1.1"),
        "{}",
        seen[0].1
    );
}
